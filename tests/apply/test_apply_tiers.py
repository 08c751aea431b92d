"""Apply honours the catalog's tiers as start barriers (node → network → cluster services → addons), as
the plan's WAVE column shows, proven by the order the API server recorded helm's release records in;
and a failed critical app (the CNI) stops every later tier."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.apply.conftest import ApplyProject, outcomes, values_block

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def _release_events(project: ApplyProject, since: str) -> list[tuple[str, str, str]]:
    """(event type, release, helm status) of every change to helm's release Secrets since `since`."""
    events = project.env.control_plane.api_changes("/api/v1/secrets", since, label_selector="owner=helm")
    out = []
    for event in events:
        meta: dict[str, Any] = event["object"]["metadata"]
        if meta["namespace"] in (project.system, project.addons):
            out.append((event["type"], meta["labels"]["name"], meta["labels"].get("status", "")))
    return out


def _first(events: list[tuple[str, str, str]], release: str, status: str | None = None) -> int:
    """Index of the first event for `release` (with helm status `status`, when given)."""
    return next(i for i, (_, name, state) in enumerate(events) if name == release and status in (None, state))


def test_apply_starts_each_tier_after_the_lower_ones_finished_as_the_plan_waves_say(project: ApplyProject) -> None:
    project.add_app("addon-c")
    plan = json.loads(_run_plan(project))
    waves = {r["name"]: r["wave"] for r in plan["releases"]}
    assert waves == {"node-config": 0, "net": 1, "dns": 2, "addon-a": 3, "addon-c": 3, "addon-b": 4}
    since = project.env.control_plane.api_get("/api/v1/secrets", params={"limit": "1"})["metadata"]["resourceVersion"]

    result = project.apply("--concurrency", "8")
    assert result.exit_code == 0, result.output

    events = _release_events(project, since)
    for earlier, later in (("node-config", "net"), ("net", "dns"), ("dns", "addon-a"), ("dns", "addon-c"),
                           ("addon-a", "addon-b")):
        # the later release's first record is written after the earlier one was marked deployed
        assert _first(events, earlier, "deployed") < _first(events, later), (earlier, later, events)
    assert {r.status for r in project.releases().values()} == {"deployed"}


def test_a_failed_critical_app_stops_every_later_tier(project: ApplyProject) -> None:
    # net (the CNI, critical) gets a pre-install hook Job that never completes: helm gives up after 5s
    project.cluster_file.write_text(project.cluster_file.read_text() + (
        "    - app:\n        metadata:\n          name: net\n        spec:\n          type: HelmV3\n"
        f"          name: net\n          targetNamespace: {project.system}\n          chart:\n"
        "            chartGroupName: public\n            chartName: net\n") + values_block("hook=true"))
    result = project.apply("--timeout", "5s", "--concurrency", "8")
    assert result.exit_code == 1, result.output
    got = outcomes(result)
    assert got["node-config"] == "installed" and got["net"] == "failed"
    assert {got[name] for name in ("dns", "addon-a", "addon-b")} == {"skipped"}
    report = {r["name"]: r for r in json.loads(result.stdout)["releases"]}
    assert report["addon-a"]["because"] == "net"
    # nothing of a later tier ever reached the API server
    assert set(project.releases()) <= {"node-config", "net"}


def _run_plan(project: ApplyProject) -> str:
    from click.testing import CliRunner

    from toolkit.cli import cli

    result = CliRunner().invoke(cli, ["plan", str(project.cluster_file), "--root", str(project.root), "-o", "json"])
    assert result.exit_code == 0, result.output
    return result.stdout

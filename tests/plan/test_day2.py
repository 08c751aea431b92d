"""Day-2: diffing a plan against the installed state (install, upgrade, uninstall, no-op), the critical
guard and secret redaction."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.plan.conftest import ROOT, cluster_from_text
from toolkit.actions.plan import render_plan
from toolkit.adapters.chart_dirs import ChainedChartSource
from toolkit.core.catalog import Catalog
from toolkit.core.model import Action, InstalledRelease, InstalledState, ReleasePlan
from toolkit.core.plan import resolve_plan
from toolkit.errors import PlanRejected

EXAMPLE = (ROOT / "examples/cluster.yaml").read_text()


def state_of(plan: ReleasePlan) -> InstalledState:
    """What apply would record after applying `plan`."""
    return InstalledState(plan.cluster, tuple(
        InstalledRelease(r.name, r.namespace, r.chart, r.version, r.digest, r.values, "deployed")
        for r in plan.releases if r.action is not Action.UNINSTALL))


def test_unchanged_cluster_is_all_noop(catalog: Catalog, charts: ChainedChartSource) -> None:
    first = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts)
    again = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts, state=state_of(first))
    assert {r.action for r in again.releases} == {Action.NOOP}
    assert not again.has_changes and first.has_changes


def test_edit_adds_changes_and_removes_apps(catalog: Catalog, charts: ChainedChartSource) -> None:
    state = state_of(resolve_plan(cluster_from_text(EXAMPLE), catalog, charts))
    # change: tapp-controller's logLevel; remove: cron-hpa; add: lbcf
    edited = EXAMPLE.replace("logLevel=2", "logLevel=4")
    start = edited.index("    - app:\n        metadata:\n          name: cron-hpa")
    end = edited.index("    - app:\n        metadata:\n          name: tapp-controller")
    edited = edited[:start] + edited[end:]
    edited += ("    - app:\n        spec:\n          name: lbcf\n          chart: {chartName: lbcf}\n"
               "          dependsOn: [tapp-controller]\n")
    plan = resolve_plan(cluster_from_text(edited), catalog, charts, state=state)
    by_name = {r.name: r for r in plan.releases}
    assert by_name["lbcf"].action is Action.INSTALL and by_name["lbcf"].depends_on == ("tapp-controller",)
    assert by_name["lbcf"].wave == by_name["tapp-controller"].wave + 1
    tapp = by_name["tapp-controller"]
    assert tapp.action is Action.UPGRADE and tapp.changed_values == ("$.logLevel",)
    assert "1 value(s) changed" in tapp.reason
    cron = by_name["cron-hpa"]
    assert cron.action is Action.UNINSTALL
    assert cron.wave > max(r.wave for r in plan.releases if r.action is not Action.UNINSTALL)
    assert by_name["cilium"].action is Action.NOOP
    assert plan.releases[-1].name == "cron-hpa"


def test_version_and_digest_changes_are_upgrades(catalog: Catalog, charts: ChainedChartSource) -> None:
    plan = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts)
    state = state_of(plan)
    releases = list(state.releases)
    i = next(n for n, r in enumerate(releases) if r.name == "coredns")
    releases[i] = replace(releases[i], version="0.0.9")
    j = next(n for n, r in enumerate(releases) if r.name == "metrics-server")
    releases[j] = replace(releases[j], digest="sha256:" + "0" * 64)
    k = next(n for n, r in enumerate(releases) if r.name == "cron-hpa")
    releases[k] = replace(releases[k], status="failed")
    again = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts, state=replace(state, releases=tuple(releases)))
    by_name = {r.name: r for r in again.releases}
    assert "chart version 0.0.9 → 0.1.2" in by_name["coredns"].reason
    assert "chart content changed" in by_name["metrics-server"].reason
    assert "status is failed" in by_name["cron-hpa"].reason
    assert all(by_name[n].action is Action.UPGRADE for n in ("coredns", "metrics-server", "cron-hpa"))


def test_releases_outside_the_inventory_are_left_alone(catalog: Catalog, charts: ChainedChartSource) -> None:
    state = state_of(resolve_plan(cluster_from_text(EXAMPLE), catalog, charts))
    foreign = InstalledRelease("someone-elses", "default", "nginx", "1.0.0")
    inventory = frozenset(f"{r.namespace}/{r.name}" for r in state.releases)
    state = InstalledState(state.cluster, (*state.releases, foreign), inventory)
    plan = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts, state=state)
    assert plan.get("someone-elses") is None


def test_critical_removal_is_guarded(catalog: Catalog, charts: ChainedChartSource) -> None:
    state = state_of(resolve_plan(cluster_from_text(EXAMPLE), catalog, charts))
    to_galaxy = EXAMPLE.replace("enableCilium: true", "enableCilium: false")
    with pytest.raises(PlanRejected) as info:
        resolve_plan(cluster_from_text(to_galaxy), catalog, charts, state=state)
    finding = next(f for f in info.value.findings if f.rule == "critical-removal")
    assert "cilium" in finding.message and "--allow-critical-removal" in (finding.hint or "")
    plan = resolve_plan(cluster_from_text(to_galaxy), catalog, charts, state=state, allow_critical_removal=True)
    assert plan.get("cilium").action is Action.UNINSTALL  # type: ignore[union-attr]
    assert plan.get("galaxy").action is Action.INSTALL  # type: ignore[union-attr]


def test_secrets_are_redacted_in_every_output(catalog: Catalog, charts: ChainedChartSource) -> None:
    plan = resolve_plan(cluster_from_text((ROOT / "tests/fixtures/clusters/secrets.yaml").read_text()), catalog,
                        charts)
    shop = plan.get("shop")
    assert shop is not None and shop.values["database"]["password"] == "hunter2"  # kept for apply
    for output in ("table", "json", "yaml"):
        text = render_plan(plan, output)
        assert "hunter2" not in text and "s3cr3t-token" not in text
    data = json.loads(render_plan(plan, "json"))
    values = next(r for r in data["releases"] if r["name"] == "shop")["values"]
    assert values["database"] == {"password": "<redacted>", "host": "db"} and values["apiToken"] == "<redacted>"
    changed = InstalledState("cls-secrets", (InstalledRelease("shop", "shop", "shop", "1.2.0", shop.digest,
                                                              {**shop.values, "apiToken": "old-token"}),))
    again = resolve_plan(cluster_from_text((ROOT / "tests/fixtures/clusters/secrets.yaml").read_text()), catalog,
                         charts, state=changed)
    text = render_plan(again, "table") + render_plan(again, "json")
    assert "$.apiToken" in text and "old-token" not in text and "s3cr3t-token" not in text

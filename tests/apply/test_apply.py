"""`apply` against the real API server and the real helm: from scratch, no-op re-apply, day-2 edits,
failures with rollback, the lock, and an unreachable server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.apply.conftest import ApplyProject, outcomes, values_block
from toolkit.adapters.kube.client import ClusterAccess, connect
from toolkit.adapters.kube.lock import ApplyLock
from toolkit.cli import cli
from toolkit.errors import EXIT_OPERATIONAL

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def test_from_scratch_then_nothing_to_do(project: ApplyProject) -> None:
    first = project.apply()
    assert first.exit_code == 0, first.output
    assert outcomes(first) == {"node-config": "installed", "net": "installed", "dns": "installed",
                               "addon-a": "installed", "addon-b": "installed"}
    releases = project.releases()
    assert {n: (r.status, r.revision) for n, r in releases.items()} == {
        n: ("deployed", 1) for n in ("node-config", "net", "dns", "addon-a", "addon-b")}
    secrets = project.env.control_plane.api_list(f"/api/v1/namespaces/{project.addons}/secrets",
                                                 label_selector="owner=helm,name=addon-a")
    assert [s["type"] for s in secrets] == ["helm.sh/release.v1"]
    assert project.config(project.addons, "addon-b")["data"] == {"chart": "addon-b-1.0.0", "greeting": "hello"}
    inventory = project.inventory()
    assert inventory["cluster"] == project.cluster
    assert sorted(r["name"] for r in inventory["releases"]) == ["addon-a", "addon-b", "dns", "net", "node-config"]
    assert all(r["digest"].startswith("sha256:") for r in inventory["releases"])

    second = project.apply()
    assert second.exit_code == 0, second.output
    assert set(outcomes(second).values()) == {"unchanged"}
    assert {n: r.revision for n, r in project.releases().items()} == dict.fromkeys(releases, 1)


def test_day2_edit_does_exactly_the_planned_actions(project: ApplyProject) -> None:
    assert project.apply().exit_code == 0
    project.add_app("addon-c")                                       # add
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("data.greeting=bonjour"))  # change
    project.edit("    - app:\n        metadata:\n          name: addon-b",  # remove addon-b: rename its entry away
                 "    - app:\n        metadata:\n          name: addon-b-removed")
    text = project.cluster_file.read_text()
    start = text.index("    - app:\n        metadata:\n          name: addon-b-removed")
    end = text.index("    - app:", start + 10)
    project.cluster_file.write_text(text[:start] + text[end:])
    project.edit("  features:\n", "  features:\n    disabledApps: [dns]\n")  # trim a default

    result = project.apply("--prune")
    assert result.exit_code == 0, result.output
    assert outcomes(result) == {"node-config": "unchanged", "net": "unchanged", "addon-a": "upgraded",
                                "addon-c": "installed", "addon-b": "uninstalled", "dns": "uninstalled"}
    releases = project.releases()
    assert set(releases) == {"node-config", "net", "addon-a", "addon-c"}
    assert releases["addon-a"].revision == 2 and releases["net"].revision == 1
    assert project.config(project.addons, "addon-a")["data"]["greeting"] == "bonjour"
    assert project.config(project.addons, "addon-b") is None
    assert project.config(project.system, "dns") is None
    assert sorted(r["name"] for r in project.inventory()["releases"]) == ["addon-a", "addon-c", "net", "node-config"]

    again = project.apply("--prune")
    assert set(outcomes(again).values()) == {"unchanged"}
    assert {n: r.revision for n, r in project.releases().items()} == {n: r.revision for n, r in releases.items()}


def test_removals_wait_for_prune(project: ApplyProject) -> None:
    assert project.apply().exit_code == 0
    project.edit("  features:\n", "  features:\n    disabledApps: [dns]\n")
    result = project.apply()
    assert outcomes(result)["dns"] == "kept"
    assert "dns" in project.releases()


def test_failed_install_skips_dependents_and_converges_after_the_fix(project: ApplyProject) -> None:
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("fail=true"))
    project.add_app("addon-c")
    result = project.apply()
    assert result.exit_code == EXIT_OPERATIONAL
    report = {r["name"]: r for r in json.loads(result.stdout)["releases"]}
    assert report["addon-a"]["outcome"] == "failed" and "Invalid_Name" in report["addon-a"]["error"]
    assert report["addon-b"]["outcome"] == "skipped" and report["addon-b"]["because"] == "addon-a"
    assert report["addon-c"]["outcome"] == "installed" and report["dns"]["outcome"] == "installed"
    assert "addon-a" not in project.releases(), "a failed first install is removed"
    assert "addon-a" not in {r["name"] for r in project.inventory()["releases"]}

    project.edit("              - fail=true\n", "              - fail=false\n")
    fixed = project.apply()
    assert fixed.exit_code == 0, fixed.output
    assert outcomes(fixed)["addon-a"] == "installed" and outcomes(fixed)["addon-b"] == "installed"


def test_failed_upgrade_is_rolled_back(project: ApplyProject) -> None:
    assert project.apply().exit_code == 0
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("fail=true", "data.greeting=broken"))
    result = project.apply()
    assert result.exit_code == EXIT_OPERATIONAL
    assert outcomes(result)["addon-a"] == "failed" and outcomes(result)["addon-b"] == "skipped"
    release = project.releases()["addon-a"]
    assert (release.status, release.revision) == ("deployed", 3), "revision 2 failed, 3 is the rollback"
    assert project.config(project.addons, "addon-a")["data"]["greeting"] == "hello"


def test_a_second_apply_is_refused_while_the_lease_is_held(project: ApplyProject) -> None:
    with connect(ClusterAccess(kubeconfig=str(project.env.kubeconfig))) as kube:
        holder = ApplyLock(kube, project.cluster)
        holder.acquire()
        try:
            result = project.apply()
        finally:
            holder.release()
    assert result.exit_code == EXIT_OPERATIONAL
    assert "another apply holds the lock" in result.stderr and holder.identity in result.stderr
    assert project.releases() == {}
    assert project.apply().exit_code == 0, "the lock is free again"


def test_unreachable_api_server_fails_cleanly(project: ApplyProject, tmp_path: Path) -> None:
    from tests.support.process import free_port

    kubeconfig = tmp_path / "dead.kubeconfig"
    kubeconfig.write_text(project.env.kubeconfig.read_text().replace(
        project.env.control_plane.server, f"https://127.0.0.1:{free_port()}"))
    result = CliRunner().invoke(cli, ["apply", str(project.cluster_file), "--kubeconfig", str(kubeconfig),
                                      "--root", str(project.root), "--yes", "--no-wait"])
    assert result.exit_code == EXIT_OPERATIONAL
    assert "cannot reach the API server" in result.stderr and "Traceback" not in result.output
    assert project.releases() == {}


def plan_cli(project: ApplyProject, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["plan", str(project.cluster_file), "--catalog", str(project.root),
                                      "--kubeconfig", str(project.env.kubeconfig), *args])
    return result.exit_code, result.stdout, result.stderr


def test_plan_reads_the_cluster_and_a_saved_plan_applies_only_while_it_still_matches(
        project: ApplyProject, tmp_path: Path) -> None:
    code, out, _ = plan_cli(project, "--output", "json", "--detailed-exitcode")
    assert code == 2 and {r["action"] for r in json.loads(out)["releases"]} == {"install"}
    assert project.apply().exit_code == 0
    code, out, _ = plan_cli(project, "--output", "json", "--detailed-exitcode")
    assert code == 0 and {r["action"] for r in json.loads(out)["releases"]} == {"noop"}

    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("data.greeting=saved"))
    saved = tmp_path / "plan.json"
    code, _, _ = plan_cli(project, "--out", str(saved))
    assert code == 0 and json.loads(saved.read_text())["source"]["stateFingerprint"].startswith("sha256:")
    applied = project.apply(source=saved)
    assert applied.exit_code == 0, applied.output
    assert outcomes(applied)["addon-a"] == "upgraded"

    project.edit("data.greeting=saved", "data.greeting=stale")
    code, _, _ = plan_cli(project, "--out", str(saved))
    project.edit("data.greeting=stale", "data.greeting=edited-after-planning")
    refused = project.apply(source=saved)
    assert refused.exit_code == 3 and "changed since the plan was made" in refused.stderr
    assert project.config(project.addons, "addon-a")["data"]["greeting"] == "saved"


def test_prerelease_chart_version_is_a_noop_on_the_second_apply(project: ApplyProject) -> None:
    """helm lists the chart as `addon-a-1.2.0-rc.1`: split wrongly, every apply would upgrade it."""
    chart = project.root / "charts" / "addons" / "addon-a" / "Chart.yaml"
    chart.write_text(chart.read_text().replace("version: 1.0.0", "version: 1.2.0-rc.1"))
    first = project.apply()
    assert first.exit_code == 0, first.output
    release = project.releases()["addon-a"]
    assert (release.chart, release.chart_name, release.chart_version) == (
        "addon-a-1.2.0-rc.1", "addon-a", "1.2.0-rc.1")
    second = project.apply()
    assert second.exit_code == 0, second.output
    assert outcomes(second)["addon-a"] == "unchanged"
    assert project.releases()["addon-a"].revision == 1

"""`tke-catalog plan` and `validate`, in-process with click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.plan.conftest import FIXTURES, ROOT
from toolkit.cli import cli
from toolkit.errors import EXIT_CHANGES, EXIT_INPUT, EXIT_OK, EXIT_USAGE

EXAMPLE = str(ROOT / "examples/cluster.yaml")


def run(*args: str) -> tuple[int, str, str]:
    """Run the CLI group in-process; it maps errors to exit codes."""
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_plan_json_shape() -> None:
    code, out, _ = run("plan", EXAMPLE, "--catalog", str(ROOT), "--output", "json")
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["cluster"] == "cls-demo"
    first = data["releases"][0]
    assert {"name", "namespace", "chart", "version", "action", "wave", "dependsOn", "reason",
            "changedValues"} <= set(first)
    assert [r["name"] for r in data["releases"]][:2] == ["containerd-config", "cilium"]


def test_plan_table_and_yaml() -> None:
    code, out, _ = run("plan", EXAMPLE, "--catalog", str(ROOT))
    assert code == EXIT_OK and "cilium (critical)" in out and "6 to install" in out
    code, out, _ = run("plan", EXAMPLE, "--catalog", str(ROOT), "-o", "yaml")
    assert code == EXIT_OK and "cluster: cls-demo" in out


def test_detailed_exitcode_and_state(tmp_path: Path) -> None:
    code, _, _ = run("plan", EXAMPLE, "--catalog", str(ROOT), "--detailed-exitcode")
    assert code == EXIT_CHANGES
    plan_file = tmp_path / "plan.json"
    code, out, _ = run("plan", EXAMPLE, "--catalog", str(ROOT), "-o", "json", "--out", str(plan_file))
    assert code == EXIT_OK and plan_file.is_file()
    # build a state file from the JSON plan (as apply would) and plan again: nothing to do
    from toolkit.actions.plan import run_plan

    plan = run_plan(Path(EXAMPLE), catalog_root=ROOT).plan
    state = {"cluster": plan.cluster, "releases": [
        {"name": r.name, "namespace": r.namespace, "chart": r.chart, "version": r.version, "digest": r.digest,
         "values": r.values, "status": "deployed"} for r in plan.releases]}
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(state))
    code, out, _ = run("plan", EXAMPLE, "--catalog", str(ROOT), "--state", str(state_file), "--detailed-exitcode")
    assert code == EXIT_OK and "6 unchanged" in out
    # removing cilium from the state's point of view: switch to galaxy → critical guard, then allowed
    galaxy = tmp_path / "galaxy.yaml"
    galaxy.write_text(Path(EXAMPLE).read_text().replace("enableCilium: true", "enableCilium: false"))
    code, _, err = run("plan", str(galaxy), "--catalog", str(ROOT), "--state", str(state_file))
    assert code == EXIT_INPUT and "--allow-critical-removal" in err and "Traceback" not in err
    code, out, _ = run("plan", str(galaxy), "--catalog", str(ROOT), "--state", str(state_file),
                       "--allow-critical-removal", "-o", "json", "--detailed-exitcode")
    assert code == EXIT_CHANGES
    actions = {r["name"]: r["action"] for r in json.loads(out)["releases"]}
    assert actions["cilium"] == "uninstall" and actions["galaxy"] == "install"


def test_bad_state_file(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps({"cluster": "cls-demo", "releases": [{"name": "x", "namespace": "y"}]}))
    code, _, err = run("plan", EXAMPLE, "--catalog", str(ROOT), "--state", str(state_file))
    assert code == EXIT_INPUT and "chart" in err


def test_invalid_cluster_prints_findings_and_exits_3() -> None:
    code, _, err = run("plan", str(FIXTURES / "misspelled-field.yaml"), "--catalog", str(ROOT))
    assert code == EXIT_INPUT
    assert "misspelled-field.yaml:8: error: unknown field `enableCillium` (at $.spec.features.enableCillium)" in err
    assert "hint: did you mean `enableCilium`?" in err


def test_context_alone_without_any_kubeconfig_says_where_it_looked(tmp_path: Path) -> None:
    """--context alone reads KUBECONFIG or ~/.kube/config, as kubectl does; with neither, a clear usage error."""
    result = CliRunner().invoke(cli, ["plan", EXAMPLE, "--context", "prod"],
                                env={"KUBECONFIG": None, "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": None})
    assert result.exit_code == EXIT_USAGE and "no cluster to talk to" in result.stderr


def test_missing_file() -> None:
    code, _, err = run("plan", "/nonexistent.yaml", "--catalog", str(ROOT))
    assert code == EXIT_INPUT and "no such file" in err


def test_validate_text_and_json() -> None:
    code, out, _ = run("validate", EXAMPLE, "--catalog", str(ROOT))
    assert code == EXIT_OK and "valid" in out
    code, out, _ = run("validate", str(FIXTURES / "unknown-app.yaml"), "--catalog", str(ROOT), "--output", "json")
    assert code == EXIT_INPUT
    data = json.loads(out)
    assert data["valid"] is False and data["findings"][0]["hint"].startswith("did you mean `metrics-server`?")


def test_validate_cluster_text_for_the_apps_verb() -> None:
    from toolkit.actions.validate import validate_cluster_text
    from toolkit.adapters.chart_dirs import CatalogChartSource
    from toolkit.adapters.project import load_catalog

    catalog = load_catalog(ROOT)
    text = (FIXTURES / "cycle.yaml").read_text()
    findings = validate_cluster_text(text, "cycle.yaml", catalog, CatalogChartSource(ROOT))
    assert [f.rule for f in findings] == ["plan-cycle"]
    assert validate_cluster_text(Path(EXAMPLE).read_text(), "c.yaml", catalog, CatalogChartSource(ROOT)) == []
    assert validate_cluster_text("a: [", "bad.yaml", catalog, CatalogChartSource(ROOT))[0].rule == "yaml"


def test_commands_are_registered() -> None:
    import click

    ctx = click.Context(cli)
    assert cli.get_command(ctx, "plan") is not None and cli.get_command(ctx, "validate") is not None

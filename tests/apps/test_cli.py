"""`tke-catalog apps ...` in-process: output formats, --dry-run, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.core.yamldoc import parse_yaml, to_plain
from toolkit.errors import EXIT_INPUT, EXIT_OK, EXIT_OPERATIONAL, EXIT_USAGE

from .edits import FIXTURES

VALID = FIXTURES / "cluster-valid.yaml"  # valid against the repository's catalog

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cluster(tmp_path: Path) -> Path:
    path = tmp_path / "cluster.yaml"
    shutil.copyfile(VALID, path)
    return path


def run(*args: str) -> object:
    return CliRunner().invoke(cli, ["apps", *args, "--root", str(ROOT)])


def test_add_then_set_then_remove(cluster: Path) -> None:
    result = run("add", str(cluster), "nginx", "--version", "~1.2", "--namespace", "web",
                 "--repo", "oci://registry.example.com/charts", "--set", "replicaCount=2")
    # the chart's registry cannot be reached, so its values cannot be checked: nothing is written
    assert result.exit_code == EXIT_OPERATIONAL, result.output
    assert "registry.example.com cannot be reached" in result.stderr
    assert cluster.read_bytes() == VALID.read_bytes()
    result = run("add", str(cluster), "monitoring", "--chart", "prometheus", "--version", ">=1.0.0 <2.0.0",
                 "--namespace", "monitoring", "--set", "server.retention=7d", "--depends-on", "cron-hpa")
    assert result.exit_code == EXIT_OK, result.output
    assert f"{cluster}: add `monitoring` done" in result.output
    result = run("set", str(cluster), "monitoring", "--set", "server.retention=30d", "--version", "~1.0")
    assert result.exit_code == EXIT_OK, result.output
    app = to_plain(parse_yaml(cluster.read_text()))["spec"]["bootstrapApps"][-1]["app"]["spec"]
    assert app["values"]["values"] == ["server.retention=30d"] and app["chart"]["chartVersion"] == "~1.0"
    result = run("remove", str(cluster), "monitoring")
    assert result.exit_code == EXIT_OK, result.output
    assert cluster.read_bytes() == VALID.read_bytes()


def test_dry_run_prints_the_diff_only(cluster: Path) -> None:
    result = run("disable", str(cluster), "metrics-server", "--dry-run")
    assert result.exit_code == EXIT_OK, result.output
    assert result.output.startswith("--- a/cluster.yaml\n+++ b/cluster.yaml\n")
    assert "+    disabledApps:\n+      - metrics-server\n" in result.output
    assert cluster.read_bytes() == VALID.read_bytes()


def test_json_output(cluster: Path) -> None:
    result = run("disable", str(cluster), "metrics-server", "--output", "json")
    assert result.exit_code == EXIT_OK, result.output
    payload = json.loads(result.stdout)
    assert payload["verb"] == "apps disable" and payload["formatVersion"] == 1 and payload["written"] and payload["ok"] and payload["findings"] == []


def test_no_change_says_so(cluster: Path) -> None:
    result = run("enable", str(cluster), "metrics-server")
    assert result.exit_code == EXIT_OK and "no change" in result.output


def test_invalid_result_exits_3_and_writes_nothing(cluster: Path) -> None:
    mtime = cluster.stat().st_mtime_ns
    result = run("add", str(cluster), "Bad_Name", "--output", "json")
    assert result.exit_code == EXIT_INPUT, result.output
    payload = json.loads(result.stdout)
    assert not payload["written"] and "$.spec.bootstrapApps[2].app.spec.name" in [f["path"] for f in payload["findings"]]
    assert "nothing was written" in result.stderr
    assert cluster.read_bytes() == VALID.read_bytes() and cluster.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in cluster.parent.iterdir()) == ["cluster.yaml"]


def test_unknown_app_suggests_a_name(cluster: Path) -> None:
    result = run("remove", str(cluster), "cron-hp")
    assert result.exit_code == EXIT_INPUT
    assert "did you mean `cron-hpa`?" in result.stderr and "Traceback" not in result.output


def test_duplicate_add_points_to_set(cluster: Path) -> None:
    result = run("add", str(cluster), "tapp-controller")
    assert result.exit_code == EXIT_INPUT and "apps set" in result.stderr


def test_set_needs_something_to_change(cluster: Path) -> None:
    result = run("set", str(cluster), "cron-hpa")
    assert result.exit_code == EXIT_USAGE and "nothing to change" in result.stderr


def test_help_lists_the_five_verbs() -> None:
    result = CliRunner().invoke(cli, ["apps", "--help"])
    assert result.exit_code == EXIT_OK
    for verb in ("add", "remove", "set", "disable", "enable"):
        assert f"  {verb} " in result.output


def test_unknown_depends_on_or_disabled_app_is_refused(cluster: Path) -> None:
    result = run("add", str(cluster), "prometheus", "--depends-on", "cron-hap")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "depends on unknown app `cron-hap`" in result.stderr
    result = run("disable", str(cluster), "kubernetes-dashboard")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "unknown app `kubernetes-dashboard`" in result.stderr
    assert cluster.read_bytes() == VALID.read_bytes()

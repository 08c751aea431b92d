"""apply without --kubeconfig: KUBECONFIG merges two files, one with an exec user whose token expires
during the run; helm and our own client both follow it (real API server, real helm)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.apply.conftest import ApplyProject, outcomes
from tests.cluster.test_cluster_access import (
    _admin,
    _exec_kubeconfig,
    _service_account_token,
)
from toolkit.cli import cli

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def test_apply_through_kubeconfig_merge_and_an_expiring_exec_token(project: ApplyProject, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """No --kubeconfig: KUBECONFIG names two files (one with an exec user whose token lasts 2 s); helm
    and our own client both follow it through a whole apply."""
    plane = project.env.control_plane
    exec_config, counter = _exec_kubeconfig(plane, tmp_path, _service_account_token(plane), lifetime=2)
    contexts = tmp_path / "contexts.yaml"
    contexts.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "current-context": _admin(plane)[
        "current-context"]}))
    monkeypatch.setenv("KUBECONFIG", f"{contexts}:{exec_config}")
    started = datetime.datetime.now()
    result = CliRunner().invoke(cli, ["apply", str(project.cluster_file), "--root", str(project.root), "--yes",
                                      "--no-wait", "--timeout", "60s", "--output", "json"])
    assert result.exit_code == 0, result.output
    assert set(outcomes(result).values()) == {"installed"}
    assert (datetime.datetime.now() - started).total_seconds() > 2 and int(counter.read_text()) >= 2
    assert sorted(r["name"] for r in project.inventory()["releases"]) == sorted(outcomes(result))

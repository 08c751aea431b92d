"""The API server dies mid-apply: apply ends early with one clear error and its summary instead of
trying every remaining release, and once the API server is back, re-running apply resumes."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.apply.conftest import make_project, values_block
from tests.support.cluster_fixtures import SESSION_TTL_SECONDS, make_helm_env
from tests.support.control_plane import ControlPlane

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def test_an_api_server_killed_mid_apply_ends_the_run_early_with_one_error_and_a_rerun_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "plane"
    with ControlPlane(folder, ttl=SESSION_TTL_SECONDS) as plane:
        project = make_project(tmp_path, make_helm_env(plane, tmp_path / "helm-home", monkeypatch), monkeypatch)
        for name in ("addon-c", "widgets"):
            project.add_app(name)
        # addon-a gets a pre-install hook Job that never completes: apply is in flight when the server dies
        project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("hook=true"))
        argv = [sys.executable, "-m", "toolkit", "apply", str(project.cluster_file), "--kubeconfig",
                str(plane.kubeconfig), "--root", str(project.root), "--yes", "--no-wait", "--timeout", "30s",
                "--concurrency", "1", "--output", "json"]
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 start_new_session=True, env=dict(os.environ))
        deadline = time.monotonic() + 90
        while not plane.api_list(f"/api/v1/namespaces/{project.addons}/secrets",
                                 label_selector="owner=helm,name=addon-a,status=pending-install"):
            assert child.poll() is None and time.monotonic() < deadline, "addon-a never reached pending-install"
            time.sleep(0.2)
        killed_at = time.monotonic()
        next(p for p in plane.processes if p.name == "kube-apiserver").stop()
        stdout, stderr = child.communicate(timeout=240)
        ended_at = datetime.datetime.now()
        ended_after = time.monotonic() - killed_at

    assert child.returncode == 1, stderr
    assert ended_after < 180, ended_after
    # what takes time is addon-a's own helm giving up on its hook (its --timeout, then its retries against
    # a dead server); once it has, the run ends at once instead of trying each remaining release
    failed_at = next(line for line in stderr.splitlines() if "addon-a: FAILED" in line)[1:9]
    since_failure = ended_at - datetime.datetime.combine(ended_at.date(), datetime.time.fromisoformat(failed_at))
    assert since_failure.total_seconds() < 20, (failed_at, ended_at, stderr)
    report = json.loads(stdout)  # the summary, on stdout, though the run failed
    assert "the cluster stopped answering" in report["stopped"]
    not_started = [r["name"] for r in report["releases"] if r.get("because") == report["stopped"]]
    assert {"addon-b"} <= set(not_started) and len(not_started) >= 2, report
    assert stderr.count("the cluster stopped answering") == 2, stderr  # the progress line and the error
    assert "command failed" not in stderr and "Traceback" not in stderr  # no raw pyhelm3 lines

    with ControlPlane(folder, ttl=SESSION_TTL_SECONDS, keep_data=True) as plane:  # the same etcd data
        project.edit("              - hook=true\n", "              - hook=false\n")
        result = project.apply()
        assert result.exit_code == 0, result.output
        assert {r.status for r in project.releases().values()} == {"deployed"}
        assert set(project.releases()) == {"node-config", "net", "dns", "addon-a", "addon-b", "addon-c", "widgets"}

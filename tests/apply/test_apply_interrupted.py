"""An apply killed with SIGKILL mid-release leaves a `pending-install` release and a stale lease; the
next apply takes the lease over, recovers the release and converges."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.apply.conftest import ApplyProject, outcomes, values_block

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def test_sigkill_mid_apply_then_rerun_converges(project: ApplyProject) -> None:
    # addon-a gets a pre-install hook Job that never completes (no controllers): helm waits on it.
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("hook=true"))
    argv = [sys.executable, "-m", "toolkit", "apply", str(project.cluster_file), "--kubeconfig",
            str(project.env.kubeconfig), "--root", str(project.root), "--yes", "--no-wait", "--timeout", "300s"]
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                             env=dict(os.environ))
    plane = project.env.control_plane
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            pending = plane.api_list(f"/api/v1/namespaces/{project.addons}/secrets",
                                     label_selector="owner=helm,name=addon-a,status=pending-install")
            if pending:
                break
            assert child.poll() is None, "apply ended before the hook could hold it"
            time.sleep(0.2)
        else:
            pytest.fail("addon-a never reached pending-install")
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    assert project.releases()["addon-a"].status == "pending-install"

    project.edit("              - hook=true\n", "              - hook=false\n")
    result = project.apply()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert f"{project.addons}/addon-a" in report["recovered"]
    assert outcomes(result)["addon-a"] == "installed" and outcomes(result)["addon-b"] == "installed"
    assert {r.status for r in project.releases().values()} == {"deployed"}

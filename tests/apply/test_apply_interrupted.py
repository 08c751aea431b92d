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


def test_two_concurrent_applies_the_second_is_refused_naming_the_first(project: ApplyProject) -> None:
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("hook=true"))
    argv = [sys.executable, "-m", "toolkit", "apply", str(project.cluster_file), "--kubeconfig",
            str(project.env.kubeconfig), "--root", str(project.root), "--yes", "--no-wait", "--timeout", "300s"]
    first = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    plane = project.env.control_plane
    lease = f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/tke-catalog-apply-{project.cluster}"
    try:
        deadline = time.monotonic() + 60
        while not plane.api_exists(lease):
            assert time.monotonic() < deadline and first.poll() is None, "the first apply never took the lease"
            time.sleep(0.1)
        holder = plane.api_get(lease)["spec"]["holderIdentity"]
        second = project.apply()
        assert second.exit_code == 1
        assert "another apply holds the lock" in second.stderr and holder in second.stderr
        assert f"pid-{first.pid}/" in holder
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)

"""Ctrl-C during apply, as a terminal sends it (SIGINT to the whole foreground process group: our
process and the helm it runs). Once: the releases in flight finish or roll back, nothing new starts,
the summary is printed, exit 130, and re-running resumes. Twice: apply stops at once, and the next run
recovers what it left."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.apply.conftest import ApplyProject, values_block

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def _start_apply(project: ApplyProject) -> subprocess.Popen[str]:
    # addon-a gets a pre-install hook Job that never completes (no controllers): helm waits on it
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("hook=true"))
    argv = [sys.executable, "-m", "toolkit", "apply", str(project.cluster_file), "--kubeconfig",
            str(project.env.kubeconfig), "--root", str(project.root), "--yes", "--no-wait", "--timeout", "300s",
            "--output", "json"]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=dict(os.environ))


def _wait_for_pending_hook(project: ApplyProject, child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if project.env.control_plane.api_list(f"/api/v1/namespaces/{project.addons}/secrets",
                                              label_selector="owner=helm,name=addon-a,status=pending-install"):
            return
        assert child.poll() is None, "apply ended before the hook could hold it"
        time.sleep(0.2)
    os.killpg(child.pid, signal.SIGKILL)
    pytest.fail("addon-a never reached pending-install")


def _outcome(child: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """stdout and stderr of the apply; it is killed (with its helm) if it outlives `timeout`."""
    try:
        return child.communicate(timeout=timeout)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)


def _rerun_converges(project: ApplyProject) -> dict[str, object]:
    project.edit("              - hook=true\n", "              - hook=false\n")
    result = project.apply()
    assert result.exit_code == 0, result.output
    assert {r.status for r in project.releases().values()} == {"deployed"}
    assert set(project.releases()) == {"node-config", "net", "dns", "addon-a", "addon-b"}
    report: dict[str, object] = json.loads(result.stdout)
    return report


def test_one_ctrl_c_finishes_what_is_in_flight_prints_the_summary_and_exits_130(project: ApplyProject) -> None:
    child = _start_apply(project)
    _wait_for_pending_hook(project, child)
    interrupted_at = time.monotonic()
    os.killpg(child.pid, signal.SIGINT)
    stdout, stderr = _outcome(child, 120)
    assert child.returncode == 130, stderr
    assert time.monotonic() - interrupted_at < 60  # not the hook's 300 s timeout
    report = json.loads(stdout)  # the whole report, on stdout, though the run was interrupted
    assert report["stopped"] == "interrupted" and report["ok"] is False
    by_name = {r["name"]: r for r in report["releases"]}
    assert {by_name[n]["outcome"] for n in ("node-config", "net", "dns")} == {"installed"}
    assert by_name["addon-a"]["outcome"] == "failed"  # helm was interrupted too: it rolled back
    assert by_name["addon-b"] == {**by_name["addon-b"], "outcome": "skipped", "because": "interrupted"}
    assert "re-run the same command to resume" in stderr
    assert "Traceback" not in stderr
    # nothing left half-done: addon-a is gone or failed, never pending; the Lease is released
    assert project.releases().get("addon-a") is None or project.releases()["addon-a"].status == "failed"
    lease = f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/tke-catalog-apply-{project.cluster}"
    assert not project.env.control_plane.api_exists(lease)

    _rerun_converges(project)


def test_a_second_ctrl_c_stops_at_once_and_the_next_apply_recovers(project: ApplyProject) -> None:
    child = _start_apply(project)
    _wait_for_pending_hook(project, child)
    os.kill(child.pid, signal.SIGINT)  # only our process: helm keeps waiting on its hook
    time.sleep(1.0)
    os.kill(child.pid, signal.SIGINT)
    _, stderr = _outcome(child, 30)
    assert child.returncode == 130, stderr
    assert "press Ctrl-C again to stop at once" in stderr and "Traceback" not in stderr
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)  # the orphaned helm, as a closing terminal would
    time.sleep(0.5)
    assert project.releases()["addon-a"].status == "pending-install"

    report = _rerun_converges(project)
    assert f"{project.addons}/addon-a" in report["recovered"]  # type: ignore[operator]

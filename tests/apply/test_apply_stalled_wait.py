"""`apply --wait` on a release that cannot become ready: the report names the object and the reason the
API server gives (here the real kube-scheduler's verdict), instead of helm's bare deadline."""

from __future__ import annotations

import json

import pytest

from tests.apply.conftest import ApplyProject, values_block
from tests.support.control_plane import ControlPlane

pytestmark = [pytest.mark.cluster, pytest.mark.helm, pytest.mark.realism]


def test_a_stalled_wait_names_the_object_and_the_schedulers_reason(
        realistic_control_plane: ControlPlane, project: ApplyProject) -> None:
    # addon-a runs a Deployment asking for more CPU than the one (fake) node has: it is never scheduled
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("workload.enabled=true",
                                                                                "workload.cpu=1000000m"))
    result = project.apply("--wait", "--timeout", "25s")
    assert result.exit_code == 1, result.output
    by_name = {r["name"]: r for r in json.loads(result.stdout)["releases"]}
    assert by_name["addon-a"]["outcome"] == "failed" and by_name["addon-b"]["outcome"] == "skipped"
    error = by_name["addon-a"]["error"]
    assert f"Deployment {project.addons}/addon-a-workload: 0 of 1 ready" in error, error
    assert "not scheduled: Unschedulable" in error and "Insufficient cpu" in error, error
    # and it was said while waiting, not only at the end
    assert "addon-a: waiting: Deployment" in result.stderr
    assert {name: by_name[name]["outcome"] for name in ("node-config", "net", "dns")} == dict.fromkeys(
        ("node-config", "net", "dns"), "installed")

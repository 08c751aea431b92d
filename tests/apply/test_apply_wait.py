"""With controllers, a scheduler and a kwok node, `apply --wait` really waits: a release whose pod turns
Ready succeeds, and one whose pod can never be scheduled fails its wait and is rolled back."""

from __future__ import annotations

import pytest

from tests.apply.conftest import ApplyProject, outcomes, values_block
from tests.support.control_plane import ControlPlane
from toolkit.errors import EXIT_OPERATIONAL

pytestmark = [pytest.mark.cluster, pytest.mark.helm, pytest.mark.realism]


def test_wait_for_ready_then_a_never_ready_upgrade_rolls_back(
        realistic_control_plane: ControlPlane, project: ApplyProject) -> None:
    assert project.env.control_plane is realistic_control_plane
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("workload.enabled=true"))
    first = project.apply("--wait", "--timeout", "90s")
    assert first.exit_code == 0, first.output
    deployment = f"/apis/apps/v1/namespaces/{project.addons}/deployments/addon-a-workload"
    assert realistic_control_plane.api_get(deployment)["status"].get("readyReplicas") == 1

    project.edit("              - workload.enabled=true\n",
                 "              - workload.enabled=true\n              - workload.cpu=64000m\n")
    failed = project.apply("--wait", "--timeout", "15s")
    assert failed.exit_code == EXIT_OPERATIONAL
    assert outcomes(failed)["addon-a"] == "failed" and outcomes(failed)["addon-b"] == "skipped"
    release = project.releases()["addon-a"]
    assert (release.status, release.revision) == ("deployed", 3), "revision 2 failed its wait, 3 rolls back"
    spec = realistic_control_plane.api_get(deployment)["spec"]["template"]["spec"]["containers"][0]
    assert spec["resources"]["requests"]["cpu"] == "10m"

"""Why an object is not ready, from API objects shaped as the API server returns them."""

from __future__ import annotations

from typing import Any

from toolkit.core.readiness import label_selector, not_ready


def deployment(available: int = 0, replicas: int = 1) -> dict[str, Any]:
    return {"kind": "Deployment", "metadata": {"name": "web", "namespace": "apps"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web", "tier": "a"}}},
            "status": {"availableReplicas": available} if available else {}}


def pod(name: str, **status: Any) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "apps"}, "spec": {}, "status": status}


def test_a_ready_deployment_is_ready_and_its_selector_is_a_label_selector() -> None:
    assert not_ready(deployment(available=2, replicas=2), []) is None
    assert label_selector(deployment()) == "app=web,tier=a"


def test_no_pods_at_all_points_at_the_controller_manager() -> None:
    assert not_ready(deployment(), []) == (
        "Deployment apps/web: 0 of 1 ready; no pods created yet (is kube-controller-manager running?)")


def test_the_schedulers_verdict_is_quoted() -> None:
    pending = pod("web-1", phase="Pending", conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": "0/1 nodes are available: 1 Insufficient cpu."}])
    assert not_ready(deployment(), [pending]) == (
        "Deployment apps/web: 0 of 1 ready; pod web-1 not scheduled: Unschedulable: "
        "0/1 nodes are available: 1 Insufficient cpu.")


def test_a_waiting_or_crashing_container_is_named() -> None:
    pulling = pod("web-1", phase="Pending", conditions=[{"type": "PodScheduled", "status": "True"}],
                  containerStatuses=[{"name": "main", "ready": False, "state": {"waiting": {
                      "reason": "ImagePullBackOff", "message": "Back-off pulling image \"x:1\""}}}])
    crashed = pod("web-2", phase="Running", conditions=[{"type": "PodScheduled", "status": "True"}],
                  containerStatuses=[{"name": "main", "ready": False,
                                      "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}])
    text = not_ready(deployment(replicas=2), [pulling, crashed])
    assert text == ("Deployment apps/web: 0 of 2 ready; pod web-1 container main: ImagePullBackOff: Back-off "
                    "pulling image \"x:1\"; pod web-2 container main exited 2 (Error)")


def test_unbound_claims_and_unjudged_kinds() -> None:
    claim = {"kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "apps"},
             "status": {"phase": "Pending"}}
    assert not_ready(claim, []) == "PersistentVolumeClaim apps/data: Pending, not bound to a volume"
    assert not_ready({"kind": "ConfigMap", "metadata": {"name": "c"}}, []) is None

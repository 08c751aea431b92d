"""Why a release's objects are not ready, from what the API server says about them, pure: the answer
`apply --wait` gives instead of helm's bare "context deadline exceeded" (which object, and why: the
scheduler's message, an image that cannot be pulled, a container that keeps crashing)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["WORKLOAD_KINDS", "label_selector", "not_ready"]

WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Pod"})
"""The kinds `helm --wait` waits on whose readiness depends on pods."""

_MAX_PODS_SHOWN = 3


def label_selector(obj: Mapping[str, Any]) -> str | None:
    """A workload's pod selector as a label-selector string (`matchLabels` only; None without one)."""
    selector = ((obj.get("spec") or {}).get("selector") or {})
    labels = selector.get("matchLabels") if isinstance(selector, Mapping) else None
    if not isinstance(labels, Mapping) or not labels:
        return None
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def _counts(obj: Mapping[str, Any]) -> tuple[int, int] | None:
    """(ready, wanted) for a pod-owning workload; None when the kind has no such counts."""
    kind, spec, status = obj.get("kind"), obj.get("spec") or {}, obj.get("status") or {}
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        wanted = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        ready = int(status.get("availableReplicas" if kind == "Deployment" else "readyReplicas") or 0)
        return ready, wanted
    if kind == "DaemonSet":
        return int(status.get("numberReady") or 0), int(status.get("desiredNumberScheduled") or 0)
    if kind == "Job":
        return int(status.get("succeeded") or 0), int(spec.get("completions") or 1)
    return None


def _pod_problem(pod: Mapping[str, Any]) -> str:
    """What holds one pod back: the scheduler's verdict, a waiting container's reason, or its phase."""
    name = (pod.get("metadata") or {}).get("name", "?")
    status = pod.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"pod {name} not scheduled: {condition.get('reason', '')}: {condition.get('message', '')}".rstrip(": ")
    for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        state = container.get("state") or {}
        waiting = state.get("waiting") or {}
        if waiting.get("reason"):
            said = f": {waiting['message']}" if waiting.get("message") else ""
            return f"pod {name} container {container.get('name')}: {waiting['reason']}{said}"
        terminated = state.get("terminated") or {}
        if terminated and terminated.get("exitCode", 0) != 0:
            return (f"pod {name} container {container.get('name')} exited {terminated.get('exitCode')}"
                    f" ({terminated.get('reason', 'Error')})")
        if not container.get("ready", False) and state.get("running"):
            return f"pod {name} container {container.get('name')} running but not ready (its readiness probe fails)"
    phase = status.get("phase") or "Pending"
    if not status.get("conditions") and not pod.get("spec", {}).get("nodeName"):
        return f"pod {name} {phase}: not scheduled yet (no scheduler running?)"
    return f"pod {name} {phase}"


def not_ready(obj: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> str | None:
    """`Kind namespace/name: what is not ready and why`, or None when the object is ready (or is of a
    kind whose readiness this does not judge). `pods` are the ones its selector matches."""
    kind = obj.get("kind")
    meta = obj.get("metadata") or {}
    where = f"{kind} {meta.get('namespace', '')}/{meta.get('name', '?')}".replace(" /", " ")
    if kind == "PersistentVolumeClaim":
        phase = (obj.get("status") or {}).get("phase")
        return None if phase == "Bound" else f"{where}: {phase or 'Pending'}, not bound to a volume"
    if kind == "Pod":
        return None if _pod_ready(obj) else f"{where}: {_pod_problem(obj)}"
    counts = _counts(obj)
    if counts is None:
        return None
    done, wanted = counts
    if done >= wanted:  # a DaemonSet no node wants is ready, as helm judges it
        return None
    summary = f"{where}: {done} of {wanted} {'completed' if kind == 'Job' else 'ready'}"
    unready = [p for p in pods if not _pod_ready(p)]
    if not pods and wanted:
        return f"{summary}; no pods created yet (is kube-controller-manager running?)"
    shown = [_pod_problem(p) for p in unready[:_MAX_PODS_SHOWN]]
    more = f"; and {len(unready) - _MAX_PODS_SHOWN} more pod(s)" if len(unready) > _MAX_PODS_SHOWN else ""
    return "; ".join([summary, *shown]) + more


def _pod_ready(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") == "Succeeded":
        return True
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])

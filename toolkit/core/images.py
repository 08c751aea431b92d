"""The container images rendered manifests run. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["images_of"]

_POD_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where the pod spec sits; every other workload kind keeps it at spec.template.spec."""
_WORKLOADS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "ReplicationController", *_POD_PATHS}


def _pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    node: Any = obj
    for key in _POD_PATHS.get(str(obj.get("kind")), ("spec", "template", "spec")):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def images_of(objects: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(image, `Kind/name container`) for every container, init container and ephemeral container of
    every workload in `objects`, in order."""
    found: list[tuple[str, str]] = []
    for obj in objects:
        if not isinstance(obj, Mapping) or obj.get("kind") not in _WORKLOADS:
            continue
        spec = _pod_spec(obj)
        name = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        for group in ("initContainers", "containers", "ephemeralContainers"):
            for container in spec.get(group) or []:
                if isinstance(container, Mapping) and container.get("image"):
                    found.append((str(container["image"]), f"{name} {container.get('name')}"))
    return found

"""The cluster's nodes as their kubelets report them (kernel, container runtime), for live checks."""

from __future__ import annotations

from toolkit.adapters.kube.client import KubeClient
from toolkit.core.live_facts import NodeFacts
from toolkit.errors import ClusterError

__all__ = ["read_nodes"]


def read_nodes(kube: KubeClient) -> list[NodeFacts]:
    """Every node's facts; none when the user may not list nodes (a namespace-scoped user)."""
    try:
        listed = kube.get("/api/v1/nodes") or {}
    except ClusterError as exc:
        if exc.status == 403:
            return []
        raise
    nodes = []
    for item in listed.get("items") or []:
        info = (item.get("status") or {}).get("nodeInfo") or {}
        nodes.append(NodeFacts(str((item.get("metadata") or {}).get("name", "")), str(info.get("kernelVersion", "")),
                               str(info.get("containerRuntimeVersion", ""))))
    return nodes

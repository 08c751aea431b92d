"""Cluster-wide checks that come before any app: the container runtime for the Kubernetes version, the
network arguments for the network mode."""

from __future__ import annotations

from toolkit.core.cluster import DOCKERSHIM_REMOVED, Cluster
from toolkit.core.findings import Finding, Severity

__all__ = ["network_findings", "runtime_findings"]


def runtime_findings(cluster: Cluster) -> list[Finding]:
    feats = cluster.features
    version = cluster.kube_version
    shown = cluster.version
    path = ["spec", "features", "containerRuntime"]
    if feats.container_runtime == "docker" and version[:2] >= DOCKERSHIM_REMOVED:
        return [cluster.finding(
            f"containerRuntime `docker` cannot run Kubernetes {shown}: the kubelet's dockershim, which talked to "
            "docker, was removed in Kubernetes 1.24",
            path, rule="runtime-docker",
            hint="set spec.features.containerRuntime: containerd (the containerd-config app configures the nodes); "
                 "or keep docker with cri-dockerd installed on every node, outside this catalog")]
    if feats.container_runtime == "docker":
        note = "" if feats.container_runtime_explicit else " (containerRuntime is unset: TKEStack's API default is docker)"
        return [cluster.finding(
            f"containerRuntime `docker` works on Kubernetes {shown} but not from 1.24 on, where dockershim is gone{note}",
            path if feats.container_runtime_explicit else ["spec", "version"], severity=Severity.WARNING,
            rule="runtime-docker",
            hint="migrate to containerd (drain each node, install containerd, set containerRuntime: containerd) "
                 "before upgrading Kubernetes to 1.24")]
    if not feats.container_runtime_explicit:
        return [cluster.finding(
            f"containerRuntime is unset; assuming containerd (Kubernetes {shown} has no dockershim)",
            ["spec", "features"], severity=Severity.INFO, rule="runtime-default",
            hint="write spec.features.containerRuntime: containerd to make it explicit")]
    return []


def network_findings(cluster: Cluster) -> list[Finding]:
    args = cluster.network_args
    out = []
    if cluster.features.network_mode == "overlay":
        for key in ("asn", "switch-ip"):
            if key in args:
                out.append(cluster.finding(f"networkArgs.{key} is only used in underlay mode; it is ignored here",
                                           ["spec", "networkArgs", key], severity=Severity.WARNING, rule="network-args",
                                           hint="set networkArgs.networkMode: underlay, or remove it"))
    elif cluster.features.enable_cilium and bool(args.get("asn")) != bool(args.get("switch-ip")):
        missing = "switch-ip" if args.get("asn") else "asn"
        out.append(cluster.finding(f"underlay BGP needs both networkArgs.asn and networkArgs.switch-ip; `{missing}` is "
                                   "missing, so BGP stays off", ["spec", "networkArgs"], severity=Severity.WARNING,
                                   rule="network-args", hint=f"add networkArgs.{missing}"))
    return out

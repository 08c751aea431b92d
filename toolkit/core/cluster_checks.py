"""Cluster-wide checks that come before any app: the container runtime for the Kubernetes version, the
network arguments for the network mode and CNI, the CIDRs as TKEStack validates them, the defaults
TKEStack filled in and the platform components its skipConditions skip.

TKEStack keeps `networkArgs` free-form (only the component that reads a key looks at it), so the keys are
checked here as warnings where TKEStack would accept the Cluster, naming what the plan does instead."""

from __future__ import annotations

import ipaddress
import re

from toolkit.core.cluster import DOCKERSHIM_REMOVED, Cluster
from toolkit.core.features import CILIUM_TUNNELS, FLANNEL_BACKENDS
from toolkit.core.findings import Finding, Severity

__all__ = ["cgroup_findings", "cidr_findings", "defaulting_findings", "network_findings", "runtime_findings"]

_ASN = re.compile(r"^[0-9]+$")


def cgroup_findings(cluster: Cluster) -> list[Finding]:
    """A warning naming the cgroup driver taken when the Cluster does not say and TKEStack 1.8 has no
    default for its Kubernetes (our shared rule: systemd above 1.21)."""
    from toolkit.core.tkestack_network import cgroup_driver

    if cluster.features.container_runtime != "containerd" or "cgroup-driver" in cluster.kubelet_extra_args:
        return []
    driver, where = cgroup_driver(cluster)
    if driver != "systemd":
        return []
    # Named by path only: this warning comes with most Clusters above 1.21, and a line number would cost a
    # round-trip parse of the file each time (planning a fleet would pay it per Cluster).
    return [Finding(Severity.WARNING, f"the kubelets' cgroup driver is taken as systemd ({where.split(' (')[0]}); "
                    "containerd is configured to match", file=cluster.source, path="$.spec.version",
                    rule="cgroup-driver",
                    hint="set spec.kubeletExtraArgs.cgroup-driver: cgroupfs if your kubelets use cgroupfs")]


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
    mode = args.get("networkMode")
    if mode is not None and mode not in ("overlay", "underlay"):
        out.append(cluster.finding(f"networkArgs.networkMode `{mode}` is neither overlay nor underlay; planning overlay",
                                   ["spec", "networkArgs", "networkMode"], severity=Severity.WARNING,
                                   rule="network-args", hint="write networkMode: overlay or networkMode: underlay"))
    if cluster.features.network_mode == "underlay" and cluster.features.enable_cilium:
        if args.get("asn") and not _ASN.match(args["asn"]):
            out.append(cluster.finding(f"networkArgs.asn `{args['asn']}` is not a number; BGP stays off",
                                       ["spec", "networkArgs", "asn"], severity=Severity.WARNING,
                                       rule="network-args", hint="write the fabric's AS number, e.g. \"64512\""))
        if args.get("switch-ip") and not _is_ipv4(args["switch-ip"]):
            out.append(cluster.finding(f"networkArgs.switch-ip `{args['switch-ip']}` is not an IPv4 address",
                                       ["spec", "networkArgs", "switch-ip"], severity=Severity.WARNING,
                                       rule="network-args", hint="write the BGP peer's address, e.g. 10.0.0.1"))
    backend = args.get("backendType")
    path = ["spec", "networkArgs", "backendType"]
    if backend is not None and cluster.features.enable_cilium:
        if cluster.features.network_mode == "underlay":
            out.append(cluster.finding(f"networkArgs.backendType `{backend}` is ignored: underlay Cilium routes natively",
                                       path, severity=Severity.INFO, rule="network-args"))
        elif backend not in CILIUM_TUNNELS and not args.get("tunnelProtocol"):
            out.append(cluster.finding(f"networkArgs.backendType `{backend}` is no Cilium tunnel protocol; Cilium uses "
                                       "vxlan", path, severity=Severity.WARNING, rule="network-args",
                                       hint=f"write one of {', '.join(CILIUM_TUNNELS)}, or remove it"))
    elif backend is not None and backend not in FLANNEL_BACKENDS:
        out.append(cluster.finding(
            f"networkArgs.backendType `{backend}` is no flannel backend; TKEStack would hand it to flannel, which "
            "would not start. Planning flannel with vxlan", path, severity=Severity.WARNING, rule="network-args",
            hint=f"write one of {', '.join(FLANNEL_BACKENDS)}"))
    return out


def _is_ipv4(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv4Address)
    except ValueError:
        return False


def _networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    try:
        return [ipaddress.ip_network(part, strict=False) for part in text.split(",")]
    except ValueError:
        return None


def cidr_findings(cluster: Cluster) -> list[Finding]:
    """clusterCIDR and serviceCIDR as TKEStack validates them (one CIDR, or an IPv4 and an IPv6 one with
    ipv6DualStack), and what our charts can serve (IPv4; the IPv6 half of a dual stack is not configured)."""
    out: list[Finding] = []
    for key, text in (("clusterCIDR", cluster.cluster_cidr_as_written), ("serviceCIDR", cluster.service_cidr)):
        if not text:
            continue
        path = ["spec", key]
        nets = _networks(text)
        if nets is None:
            out.append(cluster.finding(f"spec.{key} `{text}` is not a CIDR", path, rule="cidr",
                                       hint="write it like 10.244.0.0/16"))
            continue
        families = sorted(n.version for n in nets)
        if len(nets) > 1 and not cluster.features.ipv6_dual_stack:
            out.append(cluster.finding(f"spec.{key} `{text}` holds {len(nets)} CIDRs, but ipv6DualStack is off",
                                       path, rule="cidr",
                                       hint="keep one CIDR, or set spec.features.ipv6DualStack: true for IPv4,IPv6"))
        elif len(nets) > 1 and families != [4, 6]:
            out.append(cluster.finding(f"spec.{key} `{text}`: a dual stack needs one IPv4 and one IPv6 CIDR", path,
                                       rule="cidr", hint="write e.g. 10.244.0.0/16,fd00:10:244::/56"))
        elif families == [6]:
            out.append(cluster.finding(f"spec.{key} `{text}` is IPv6 only: the catalog's CNI and DNS charts do not "
                                       "support IPv6-only clusters yet", path, rule="ipv6",
                                       hint="use an IPv4 CIDR, or a dual stack (ipv6DualStack) with an IPv4 half"))
        elif families == [4, 6]:
            out.append(cluster.finding(f"spec.{key} `{text}` is dual-stack: the catalog's charts configure its IPv4 "
                                       "half only (IPv6 is not supported by them yet)", path,
                                       severity=Severity.WARNING, rule="ipv6"))
    if cluster.service_cidr and cluster.max_cluster_service_num_set:
        out.append(cluster.finding("spec.serviceCIDR and spec.properties.maxClusterServiceNum are both set; TKEStack "
                                   "refuses that", ["spec", "properties", "maxClusterServiceNum"], rule="cidr",
                                   hint="keep serviceCIDR, or remove it and let maxClusterServiceNum size it"))
    return out


def defaulting_findings(cluster: Cluster) -> list[Finding]:
    """Notes on what TKEStack's defaulting filled in that changes the plan: a generated name."""
    if not cluster.generated_name:
        return []
    return [cluster.finding(
        f"metadata.name is unset: TKEStack generates it from generateName at create; this plan uses the placeholder "
        f"`{cluster.name}`, not the final name", ["metadata"], severity=Severity.INFO, rule="generated-name",
        hint="apply needs the real name: write metadata.name, or read it back from TKEStack after create")]

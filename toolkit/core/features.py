"""Chart values derived from a Cluster's fields: the "cluster features" layer of the values merge.

Pure. The keys were agreed with the chart authors:

    cilium   mode, tunnelProtocol, ipam.mode, ipam.clusterPoolIPv4PodCIDR, nativeRoutingCIDR,
             bgp.enabled, bgp.asn, bgp.switchIP, clusterName, k8sServiceHost/Port (HA VIP or first machine)
    cilium-bgp asn, switchIP (networkArgs asn, switch-ip)
    galaxy   networkDevice, clusterCIDR, flannel.backendType
    coredns  clusterDomain, service.clusterIP (TKEStack's DNS address)
    containerd-config  systemdCgroup (the kubelets' cgroup driver), nvidia.enabled (gpuType),
                       registry.insecureSkipVerifyHosts (dockerExtraArgs insecure-registry)
    metrics-server     kubeletInsecureTLS (TKEStack's kubelets serve self-signed certificates)
    galaxy-ipam        service.clusterIP (the service CIDR's 8th address), gpu-manager quotaAdmission.clusterIP (9th)
    every    global.imageRegistry (when an image registry is given)

`derived_from_cluster` says, for the values TKEStack itself computes, what each one is and where it comes
from; the plan shows that list (the values are a layer like the others: a user's override still wins).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.core.cluster import Cluster
from toolkit.core.tkestack_network import (
    DNS_SERVICE_INDEX,
    GALAXY_IPAM_SERVICE_INDEX,
    GPU_QUOTA_SERVICE_INDEX,
    cgroup_driver,
    service_address,
    service_cidr,
)

__all__ = ["CILIUM_TUNNELS", "FLANNEL_BACKENDS", "Derived", "cilium_tunnel_protocol", "derive_values",
           "derived_from_cluster", "flannel_backend",
           "insecure_registries"]

FLANNEL_BACKENDS = ("vxlan", "host-gw", "udp", "ipip", "ipsec", "wireguard")
"""The flannel backends the galaxy chart configures; networkArgs.backendType is free-form in TKEStack."""

CILIUM_TUNNELS = ("vxlan", "geneve")
"""Cilium's tunnel protocols: networkArgs.tunnelProtocol, else a backendType naming one of them."""


def flannel_backend(args: Mapping[str, str]) -> str:
    """Flannel's backend on a Galaxy cluster: backendType when flannel has it, else TKEStack's vxlan."""
    backend = args.get("backendType", "vxlan")
    return backend if backend in FLANNEL_BACKENDS else "vxlan"


def cilium_tunnel_protocol(args: Mapping[str, str]) -> str:
    """Cilium's overlay encapsulation: tunnelProtocol, else backendType (TKEStack's docs write
    `backendType: geneve` on Cilium clusters), when it names one; vxlan otherwise."""
    for key in ("tunnelProtocol", "backendType"):
        if args.get(key) in CILIUM_TUNNELS:
            return args[key]
    return "vxlan"

_CILIUM_NAME = re.compile(r"[^a-z0-9-]+")
_CIDR = re.compile(r"[0-9a-fA-F.:]+/[0-9]{1,3}")


def _asn(args: Mapping[str, str]) -> int | None:
    """networkArgs.asn as a number (TKEStack keeps it a string)."""
    text = args.get("asn", "")
    return int(text) if text.isdigit() else None


def _cilium(cluster: Cluster) -> dict[str, Any]:
    args = cluster.network_args
    underlay = cluster.features.network_mode == "underlay"
    name = _CILIUM_NAME.sub("-", cluster.name.lower()).strip("-")[:32].strip("-") or "default"
    values: dict[str, Any] = {
        "clusterName": name,
        "mode": "underlay" if underlay else "overlay",
        # TKEStack ran ipam "kubernetes" in overlay and "crd" in underlay; the chart's native pool is cluster-pool
        "ipam": {"mode": "cluster-pool" if underlay else "kubernetes",
                 "clusterPoolIPv4PodCIDR": cluster.cluster_cidr},
    }
    if underlay:
        values["nativeRoutingCIDR"] = cluster.cluster_cidr
        bgp: dict[str, Any] = {"enabled": bool(args.get("asn") and args.get("switch-ip"))}
        if _asn(args) is not None:
            bgp["asn"] = _asn(args)
        if args.get("switch-ip"):
            bgp["switchIP"] = args["switch-ip"]
        values["bgp"] = bgp
    else:
        values["tunnelProtocol"] = cilium_tunnel_protocol(args)
    return values


def _cilium_bgp(cluster: Cluster) -> dict[str, Any]:
    args = cluster.network_args
    values: dict[str, Any] = {"switchIP": args.get("switch-ip", "")}
    if _asn(args) is not None:
        values["asn"] = _asn(args)
    return values


def _galaxy(cluster: Cluster) -> dict[str, Any]:
    return {
        "networkDevice": cluster.network_device,
        "clusterCIDR": cluster.cluster_cidr,
        "flannel": {"backendType": flannel_backend(cluster.network_args)},
    }


def _coredns(cluster: Cluster) -> dict[str, Any]:
    return {"clusterDomain": cluster.dns_domain}


_DERIVERS: dict[str, Callable[[Cluster], dict[str, Any]]] = {
    "cilium": _cilium,
    "cilium-bgp": _cilium_bgp,
    "galaxy": _galaxy,
    "coredns": _coredns,
}


@dataclass(frozen=True)
class Derived:
    """One value TKEStack computes from the Cluster: its chart path, the value, and where it comes from."""

    path: tuple[str, ...]
    value: Any
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": "$." + ".".join(self.path), "value": self.value, "from": self.source}


def _dns_address(cluster: Cluster) -> list[Derived]:
    network, where = service_cidr(cluster)
    return [Derived(("service", "clusterIP"), service_address(network, DNS_SERVICE_INDEX),
                    f"the kubelets' clusterDNS, the {DNS_SERVICE_INDEX}th address of the service CIDR {network} "
                    f"({where})")]


def _fixed_service(index: int, path: tuple[str, ...], what: str) -> Callable[[Cluster], list[Derived]]:
    """A Service at TKEStack's fixed address `index` of the service CIDR (kube-scheduler, on the host
    network, reaches extenders there)."""
    def derive(cluster: Cluster) -> list[Derived]:
        network, where = service_cidr(cluster)
        return [Derived(path, service_address(network, index),
                        f"TKEStack's fixed {what} address, the {index}th of the service CIDR {network} ({where}); "
                        "kube-scheduler calls the extender there")]
    return derive


def _cgroup(cluster: Cluster) -> list[Derived]:
    driver, where = cgroup_driver(cluster)
    return [Derived(("systemdCgroup",), driver == "systemd", f"the kubelets' cgroup driver is {driver}, {where}")]


def _containerd(cluster: Cluster) -> list[Derived]:
    derived = _cgroup(cluster)
    if cluster.features.gpu_type:
        derived.append(Derived(("nvidia", "enabled"), True,
                               f"gpuType {cluster.features.gpu_type}: TKEStack's GPU nodes run containers through "
                               "nvidia-container-runtime"))
    insecure = insecure_registries(cluster)
    if insecure:
        derived.append(Derived(("registry", "insecureSkipVerifyHosts"), list(insecure),
                               "spec.dockerExtraArgs.insecure-registry: the registries the nodes' docker already "
                               "trusted without TLS verification"))
    return derived


def insecure_registries(cluster: Cluster) -> tuple[str, ...]:
    """The registry hosts the Cluster's docker flags mark insecure (`insecure-registry`, comma-separated
    as TKEStack passes extra args), without scheme or path."""
    hosts: list[str] = []
    for key in ("insecure-registry", "insecure-registries"):
        for item in cluster.docker_extra_args.get(key, "").split(","):
            if _CIDR.fullmatch(item.strip()):
                continue  # docker takes address ranges here; containerd configures hosts only
            host = item.strip().split("://", 1)[-1].split("/", 1)[0].lower()
            if host and host not in hosts:
                hosts.append(host)
    return tuple(hosts)


def _api_server(cluster: Cluster) -> list[Derived]:
    if cluster.api_endpoint is None:
        return []
    host, port, where = cluster.api_endpoint
    return [Derived(("k8sServiceHost",), host, f"the API server's own address, {where} (used with "
                                               "kubeProxyReplacement, when the kubernetes Service needs Cilium)"),
            Derived(("k8sServicePort",), port, f"the API server's port, {where}")]


def _kubelet_tls(_: Cluster) -> list[Derived]:
    return [Derived(("kubeletInsecureTLS",), True, "TKEStack's kubelets serve self-signed certificates; its own "
                                                   "metrics-server ran --kubelet-insecure-tls")]


_TKESTACK: dict[str, Callable[[Cluster], list[Derived]]] = {
    "coredns": _dns_address,
    "containerd-config": _containerd,
    "cilium": _api_server,
    "galaxy-ipam": _fixed_service(GALAXY_IPAM_SERVICE_INDEX, ("service", "clusterIP"), "galaxy-ipam"),
    "gpu-manager": _fixed_service(GPU_QUOTA_SERVICE_INDEX, ("quotaAdmission", "clusterIP"), "gpu-quota-admission"),
    "metrics-server": _kubelet_tls,
}


def derived_from_cluster(app: str, cluster: Cluster) -> list[Derived]:
    """The values of catalog app `app` that TKEStack computes from the Cluster, with their sources.

    Raises InputError when the Cluster's network cannot give them (a service CIDR too small)."""
    derive = _TKESTACK.get(app)
    return derive(cluster) if derive is not None else []


def derive_values(app: str, cluster: Cluster, *, image_registry: str | None = None) -> dict[str, Any]:
    """The values the Cluster implies for catalog app `app` (empty for apps with none)."""
    derive = _DERIVERS.get(app)
    values = derive(cluster) if derive is not None else {}
    for item in derived_from_cluster(app, cluster):
        node = values
        for key in item.path[:-1]:
            node = node.setdefault(key, {})
        node[item.path[-1]] = item.value
    if image_registry:
        values["global"] = {"imageRegistry": image_registry}
    return values

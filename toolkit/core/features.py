"""Chart values derived from a Cluster's fields: the "cluster features" layer of the values merge.

Pure. The keys were agreed with the chart authors:

    cilium   mode, tunnelProtocol, ipam.mode, ipam.clusterPoolIPv4PodCIDR, nativeRoutingCIDR,
             bgp.enabled, bgp.asn, bgp.switchIP, clusterName
    galaxy   networkDevice, clusterCIDR, flannel.backendType
    coredns  clusterDomain
    every    global.imageRegistry (when an image registry is given)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from toolkit.core.cluster import Cluster

__all__ = ["CILIUM_TUNNELS", "FLANNEL_BACKENDS", "cilium_tunnel_protocol", "derive_values", "flannel_backend"]

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
        if args.get("asn", "").isdigit():
            bgp["asn"] = int(args["asn"])
        if args.get("switch-ip"):
            bgp["switchIP"] = args["switch-ip"]
        values["bgp"] = bgp
    else:
        values["tunnelProtocol"] = cilium_tunnel_protocol(args)
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
    "galaxy": _galaxy,
    "coredns": _coredns,
}


def derive_values(app: str, cluster: Cluster, *, image_registry: str | None = None) -> dict[str, Any]:
    """The values the Cluster implies for catalog app `app` (empty for apps with none)."""
    derive = _DERIVERS.get(app)
    values = derive(cluster) if derive is not None else {}
    if image_registry:
        values["global"] = {"imageRegistry": image_registry}
    return values

"""What TKEStack 1.8 computes from a Cluster for the network and the nodes, so the charts get the same
answers its kubelets and components already use. Pure.

- The service CIDR, when `spec.serviceCIDR` is empty (`cluster/util.go` GetServiceCIDRAndNodeCIDRMaskSize):
  the last address of `clusterCIDR` with the prefix `32 - ceil(log2(maxClusterServiceNum))`, i.e. a block
  carved from the top of the cluster CIDR.
- Fixed service addresses (`constants.go`): the cluster DNS is the 10th address of the service CIDR (what
  every kubelet's clusterDNS points at), galaxy-ipam the 8th, gpu-quota-admission the 9th.
- The kubelet's cgroup driver: TKEStack 1.8 sets none, so on the Kubernetes versions it ships (1.19-1.21)
  kubelets and runtimes use cgroupfs unless `kubeletExtraArgs.cgroup-driver` says otherwise (systemd became
  TKEStack's default only in 1.9.1). Above those, systemd: kubeadm's default since Kubernetes 1.22.
"""

from __future__ import annotations

import ipaddress
import math

from toolkit.core.cluster import Cluster
from toolkit.core.tkestack_defaults import TKESTACK_VERSIONS_TOP_MINOR
from toolkit.errors import InputError

__all__ = ["DNS_SERVICE_INDEX", "GALAXY_IPAM_SERVICE_INDEX", "GPU_QUOTA_SERVICE_INDEX", "carved_service_cidr",
           "cgroup_driver", "service_address", "service_cidr"]

DNS_SERVICE_INDEX = 10
GPU_QUOTA_SERVICE_INDEX = 9
GALAXY_IPAM_SERVICE_INDEX = 8


def carved_service_cidr(cluster_cidr: str, max_services: int) -> ipaddress.IPv4Network:
    """TKEStack's service CIDR for a cluster without `serviceCIDR`: 192.168.0.0/24 with 32 services is
    192.168.0.224/27 (its own unit test)."""
    network = ipaddress.IPv4Network(cluster_cidr, strict=False)
    bits = max(0, math.ceil(math.log2(max(1, max_services))))
    prefix = 32 - bits
    if prefix < network.prefixlen:
        raise InputError(f"clusterCIDR {cluster_cidr} is smaller than maxClusterServiceNum {max_services}",
                         hint="widen clusterCIDR or lower spec.properties.maxClusterServiceNum")
    return ipaddress.IPv4Network(f"{network.broadcast_address}/{prefix}", strict=False)


def service_cidr(cluster: Cluster) -> tuple[ipaddress.IPv4Network, str]:
    """The Cluster's IPv4 service CIDR and where it comes from."""
    if cluster.service_cidr:
        first = next((part.strip() for part in cluster.service_cidr.split(",") if ":" not in part), "")
        if first:
            return ipaddress.IPv4Network(first, strict=False), "spec.serviceCIDR"
    carved = carved_service_cidr(cluster.cluster_cidr, cluster.max_cluster_service_num)
    return carved, (f"carved from clusterCIDR {cluster.cluster_cidr} for maxClusterServiceNum "
                    f"{cluster.max_cluster_service_num}, as TKEStack does")


def service_address(network: ipaddress.IPv4Network, index: int) -> str:
    """The `index`th address of the service CIDR (TKEStack's fixed service addresses)."""
    if index >= network.num_addresses:
        raise InputError(f"the service CIDR {network} has no address number {index}",
                         hint="widen serviceCIDR (or raise maxClusterServiceNum)")
    return str(network.network_address + index)


def cgroup_driver(cluster: Cluster) -> tuple[str, str]:
    """The kubelets' cgroup driver (`systemd` or `cgroupfs`) and where it comes from."""
    asked = cluster.kubelet_extra_args.get("cgroup-driver")
    if asked in ("systemd", "cgroupfs"):
        return asked, "spec.kubeletExtraArgs.cgroup-driver"
    if cluster.kube_version[:2] <= (1, TKESTACK_VERSIONS_TOP_MINOR):
        return "cgroupfs", "TKEStack 1.8's default (it sets no driver; kubeletExtraArgs.cgroup-driver changes it)"
    return "systemd", ("kubeadm's default since Kubernetes 1.22, above TKEStack 1.8's versions "
                       "(kubeletExtraArgs.cgroup-driver changes it)")

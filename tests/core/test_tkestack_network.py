"""What TKEStack computes from a Cluster: the carved service CIDR (its own unit-test example), the DNS
address kubelets point at, the cgroup driver by version, and these values in the plan with their source."""

from __future__ import annotations

import ipaddress

import pytest

from tests.plan.conftest import cluster_from_text
from toolkit.core.features import derive_values, derived_from_cluster
from toolkit.core.tkestack_network import (
    carved_service_cidr,
    cgroup_driver,
    service_address,
    service_cidr,
)
from toolkit.errors import InputError


def cluster(version: str = "1.21.4-tke.1", *, spec: str = "") -> str:
    return f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata: {{name: cls-net}}
spec:
  version: {version}
  features: {{containerRuntime: containerd}}
{spec}"""


@pytest.mark.parametrize(("cidr", "services", "expected"), [
    ("192.168.0.0/24", 32, "192.168.0.224/27"),  # TKEStack's own unit test (cluster/util_test.go)
    ("10.244.0.0/16", 256, "10.244.255.0/24"),  # its defaults
    ("172.16.0.0/12", 1000, "172.31.252.0/22"),  # rounded up to a power of two
    ("10.0.0.0/8", 65536, "10.255.0.0/16"),
])
def test_the_service_cidr_is_carved_from_the_top_of_the_cluster_cidr(cidr: str, services: int, expected: str) -> None:
    assert carved_service_cidr(cidr, services) == ipaddress.IPv4Network(expected)


def test_a_cluster_cidr_smaller_than_its_services_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        carved_service_cidr("192.168.0.0/26", 128)
    assert "maxClusterServiceNum 128" in caught.value.message


@pytest.mark.parametrize(("spec", "dns", "source"), [
    ("", "10.244.255.10", "carved from clusterCIDR 10.244.0.0/16"),
    ("  clusterCIDR: 192.168.0.0/24\n  properties: {maxClusterServiceNum: 32, maxNodePodNum: 64}\n", "192.168.0.234",
     "carved from clusterCIDR 192.168.0.0/24 for maxClusterServiceNum 32"),
    ("  serviceCIDR: 10.96.0.0/16\n", "10.96.0.10", "spec.serviceCIDR"),
])
def test_the_dns_address_is_the_tenth_of_the_service_cidr(spec: str, dns: str, source: str) -> None:
    parsed = cluster_from_text(cluster(spec=spec))
    [derived] = derived_from_cluster("coredns", parsed)
    assert derived.path == ("service", "clusterIP") and derived.value == dns and source in derived.source
    values = derive_values("coredns", parsed)
    assert values["service"]["clusterIP"] == dns and values["clusterDomain"] == "cluster.local"
    network, _ = service_cidr(parsed)
    assert service_address(network, 10) == dns


@pytest.mark.parametrize(("version", "extra", "driver"), [
    ("1.21.4-tke.1", "", "cgroupfs"),
    ("1.19.7", "", "cgroupfs"),
    ("1.20.4", "  kubeletExtraArgs: {cgroup-driver: systemd}\n", "systemd"),
    ("1.30.2", "", "systemd"),
    ("1.30.2", "  kubeletExtraArgs: {cgroup-driver: cgroupfs}\n", "cgroupfs"),
])
def test_the_cgroup_driver_follows_tkestack_then_kubeadm(version: str, extra: str, driver: str) -> None:
    parsed = cluster_from_text(cluster(version, spec=extra))
    assert cgroup_driver(parsed)[0] == driver
    assert derive_values("containerd-config", parsed)["systemdCgroup"] is (driver == "systemd")


def test_metrics_server_trusts_tkestacks_self_signed_kubelets() -> None:
    assert derive_values("metrics-server", cluster_from_text(cluster()))["kubeletInsecureTLS"] is True


def test_gpu_clusters_get_the_nvidia_runtime_and_dockers_insecure_registries_carry_over() -> None:
    text = cluster(spec="  dockerExtraArgs:\n    insecure-registry: \"https://Reg.TKE.local:5000/v2,10.0.0.0/8, mirror.local\"\n")
    gpu = text.replace("features: {containerRuntime: containerd}", "features: {containerRuntime: containerd, gpuType: Physical}")
    values = derive_values("containerd-config", cluster_from_text(gpu))
    assert values["nvidia"] == {"enabled": True}
    # the CIDR has no containerd equivalent; scheme and path go, the host is lower-cased
    assert values["registry"] == {"insecureSkipVerifyHosts": ["reg.tke.local:5000", "mirror.local"]}
    plain = derive_values("containerd-config", cluster_from_text(cluster()))
    assert "nvidia" not in plain and "registry" not in plain
    sources = {d.path: d.source for d in derived_from_cluster("containerd-config", cluster_from_text(gpu))}
    assert "gpuType Physical" in sources[("nvidia", "enabled")]
    assert "dockerExtraArgs.insecure-registry" in sources[("registry", "insecureSkipVerifyHosts")]


@pytest.mark.parametrize(("spec", "expected"), [
    ("  features: {containerRuntime: containerd, ha: {tke: {vip: 10.0.0.100}}}\n", ("10.0.0.100", 6443)),
    ("  features: {containerRuntime: containerd, ha: {thirdParty: {vip: 10.0.0.200, vport: 8443}}}\n",
     ("10.0.0.200", 8443)),
    ("  machines: [{ip: 10.0.0.11, port: 22}, {ip: 10.0.0.12}]\n", ("10.0.0.11", 6443)),
])
def test_cilium_learns_the_api_servers_own_address(spec: str, expected: tuple[str, int]) -> None:
    text = cluster(spec=spec)
    if "ha:" in spec:
        text = text.replace("  features: {containerRuntime: containerd}\n", "")
    values = derive_values("cilium", cluster_from_text(text))
    assert (values["k8sServiceHost"], values["k8sServicePort"]) == expected


def test_without_ha_or_machines_cilium_keeps_the_kubernetes_service() -> None:
    assert "k8sServiceHost" not in derive_values("cilium", cluster_from_text(cluster()))

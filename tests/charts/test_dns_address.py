"""The DNS Service gets the address every kubelet of the Cluster points pods at: the 10th address of the
service CIDR TKEStack computes. Each case starts a real kube-apiserver with the service range the Cluster
derives (as the cluster's own would run) and installs the planned coredns release into it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plan.conftest import cluster_from_text
from tests.support.cluster_fixtures import SESSION_TTL_SECONDS
from tests.support.control_plane import ControlPlane
from tests.support.registry_fixtures import require_helm
from toolkit.adapters.chart_dirs import CatalogChartSource
from toolkit.adapters.helm import Helm
from toolkit.adapters.project import load_catalog
from toolkit.core.plan import resolve_plan
from toolkit.core.tkestack_network import service_cidr

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

ROOT = Path(__file__).parents[2]


def _cluster(network: str) -> str:
    return f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata: {{name: cls-dns}}
spec:
  version: 1.36.3
{network}  features: {{containerRuntime: containerd, enableCilium: true}}
"""


@pytest.mark.parametrize(("network", "service_range", "dns"), [
    ("  clusterCIDR: 192.168.0.0/24\n  properties: {maxClusterServiceNum: 32, maxNodePodNum: 64}\n",
     "192.168.0.224/27", "192.168.0.234"),  # TKEStack's own unit-test example
    ("", "10.244.255.0/24", "10.244.255.10"),  # TKEStack's defaults
    ("  clusterCIDR: 172.20.0.0/16\n  serviceCIDR: 10.100.0.0/20\n", "10.100.0.0/20", "10.100.0.10"),
], ids=["tkestack-unit-test", "defaults", "service-cidr"])
def test_the_dns_service_gets_the_derived_address(tmp_path: Path, network: str, service_range: str,
                                                 dns: str) -> None:
    parsed = cluster_from_text(_cluster(network))
    assert str(service_cidr(parsed)[0]) == service_range
    plan = resolve_plan(parsed, load_catalog(ROOT), CatalogChartSource(ROOT))
    coredns = plan.get("coredns")
    assert coredns is not None and coredns.values["service"]["clusterIP"] == dns
    with ControlPlane(tmp_path / "plane", ttl=SESSION_TTL_SECONDS, service_cidr=service_range) as plane:
        helm = Helm(str(require_helm()), kubeconfig=plane.kubeconfig)
        helm.upgrade_install(coredns.name, ROOT / coredns.source, coredns.namespace, dict(coredns.values),
                             wait=False, timeout="60s")
        service = plane.api_get(f"/api/v1/namespaces/{coredns.namespace}/services/kube-dns")
        assert service["spec"]["clusterIP"] == dns
        assert {(p["port"], p["protocol"]) for p in service["spec"]["ports"]} >= {(53, "UDP"), (53, "TCP")}

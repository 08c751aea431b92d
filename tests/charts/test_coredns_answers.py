"""CoreDNS answers: the real CoreDNS binary (the coredns chart's appVersion, built by setup) runs the
Corefile our chart renders for a Cluster, against the real kube-apiserver; only its listen addresses
and API credentials are adapted. A Service and a headless Service made there resolve under the
Cluster's dnsDomain, and not under any other."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from tests.plan.conftest import cluster_from_text
from tests.support.control_plane import ControlPlane
from tests.support.process import free_port
from tests.support.registry_fixtures import require_binary, require_helm
from toolkit.adapters.chart_dirs import CatalogChartSource
from toolkit.adapters.helm import Helm
from toolkit.adapters.project import load_catalog
from toolkit.core.plan import resolve_plan

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

ROOT = Path(__file__).parents[2]
NAMESPACE = "dns-test"


def corefile_for(domain: str) -> str:
    """The Corefile the planned coredns release renders for a Cluster with this dnsDomain."""
    text = f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata: {{name: cls-dns}}
spec:
  version: 1.36.3
  dnsDomain: {domain}
  serviceCIDR: 10.96.0.0/16
  kubeletExtraArgs: {{cgroup-driver: systemd}}
  features: {{containerRuntime: containerd, enableCilium: true}}
"""
    plan = resolve_plan(cluster_from_text(text), load_catalog(ROOT), CatalogChartSource(ROOT))
    release = plan.get("coredns")
    assert release is not None
    objects = Helm(str(require_helm())).template(ROOT / release.source, release.name, release.namespace,
                                                 dict(release.values))
    [config] = [o for o in objects if o["kind"] == "ConfigMap" and "Corefile" in o.get("data", {})]
    corefile: str = config["data"]["Corefile"]
    return corefile


def adapt(corefile: str, kubeconfig: Path, ports: dict[str, int]) -> str:
    """Loopback listen addresses and the test API server's credentials; nothing else changes."""
    out = corefile.replace(".:53 {", f".:{ports['dns']} {{\n    bind 127.0.0.1", 1)
    out = re.sub(r"^(\s*)health\b", rf"\1health 127.0.0.1:{ports['health']}", out, count=1, flags=re.M)
    out = re.sub(r"^(\s*)ready$", rf"\1ready 127.0.0.1:{ports['ready']}", out, count=1, flags=re.M)
    out = out.replace("prometheus :9153", f"prometheus 127.0.0.1:{ports['metrics']}")
    out = re.sub(r"^(\s*)(kubernetes [^\n{]*\{)", rf"\1\2\n\1    kubeconfig {kubeconfig} tke-catalog-test", out,
                 count=1, flags=re.M)
    assert out.count("127.0.0.1") == 4 and "kubeconfig" in out, out
    return out


@pytest.fixture
def services(control_plane: ControlPlane) -> Iterator[dict[str, Any]]:
    """A ClusterIP Service and a headless one with an EndpointSlice (no controllers run here)."""
    plane = control_plane
    if not plane.api_exists(f"/api/v1/namespaces/{NAMESPACE}"):
        plane.api_create("/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
    web = plane.api_create(f"/api/v1/namespaces/{NAMESPACE}/services", {
        "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}}})
    plane.api_create(f"/api/v1/namespaces/{NAMESPACE}/services", {
        "metadata": {"name": "db"}, "spec": {"clusterIP": "None", "ports": [{"port": 5432}],
                                             "selector": {"app": "db"}}})
    plane.api_create(f"/apis/discovery.k8s.io/v1/namespaces/{NAMESPACE}/endpointslices", {
        "metadata": {"name": "db-1", "labels": {"kubernetes.io/service-name": "db"}},
        "addressType": "IPv4", "ports": [{"port": 5432, "protocol": "TCP"}],
        "endpoints": [{"addresses": ["10.244.1.7"], "conditions": {"ready": True}},
                      {"addresses": ["10.244.2.9"], "conditions": {"ready": True}}]})
    yield {"web": web["spec"]["clusterIP"], "db": {"10.244.1.7", "10.244.2.9"}}
    for path in ("services/web", "services/db", "endpointslices/db-1"):
        prefix = "/apis/discovery.k8s.io/v1" if path.startswith("endpointslices") else "/api/v1"
        plane._request("DELETE", f"{prefix}/namespaces/{NAMESPACE}/{path}")


def ask(port: int, name: str, *, timeout: float = 20.0) -> tuple[int, set[str]]:
    """rcode and A records for `name`, once CoreDNS answers at all (its API cache syncs first)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = dns.query.udp(dns.message.make_query(name, dns.rdatatype.A), "127.0.0.1", port=port,
                                   timeout=1.0)
            if answer.rcode() != dns.rcode.SERVFAIL or time.monotonic() > deadline:
                return answer.rcode(), {r.address for rrset in answer.answer for r in rrset
                                        if rrset.rdtype == dns.rdatatype.A}
        except dns.exception.Timeout:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


@pytest.mark.parametrize("domain", ["cluster.local", "tke.internal"])
def test_coredns_answers_with_the_charts_corefile(tmp_path: Path, control_plane: ControlPlane,
                                                  services: dict[str, Any], domain: str) -> None:
    coredns = require_binary("coredns", "coredns")
    ports = {name: free_port() for name in ("dns", "health", "ready", "metrics")}
    corefile = tmp_path / "Corefile"
    corefile.write_text(adapt(corefile_for(domain), control_plane.kubeconfig, ports))
    log = (tmp_path / "coredns.log").open("w")
    server = subprocess.Popen(["timeout", "300", str(coredns), "-conf", str(corefile)], stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        code, addresses = ask(ports["dns"], f"web.{NAMESPACE}.svc.{domain}")
        assert (code, addresses) == (dns.rcode.NOERROR, {services["web"]}), (tmp_path / "coredns.log").read_text()
        assert ask(ports["dns"], f"db.{NAMESPACE}.svc.{domain}") == (dns.rcode.NOERROR, services["db"])
        assert ask(ports["dns"], f"nothing.{NAMESPACE}.svc.{domain}")[0] == dns.rcode.NXDOMAIN
        other = "cluster.local" if domain != "cluster.local" else "tke.internal"
        # another domain is not the cluster's: CoreDNS forwards it upstream (no upstream answers here)
        try:
            assert ask(ports["dns"], f"web.{NAMESPACE}.svc.{other}", timeout=5)[1] != {services["web"]}
        except dns.exception.Timeout:
            pass
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()

"""Adopting what kubeadm made: a cluster kubeadm bootstrapped already has CoreDNS (its `kube-dns`
Service, `coredns` Deployment, ConfigMap and ServiceAccount), which helm does not own. Against the real
API server and helm: the plan finds them, apply without consent changes nothing and names them, with
consent helm takes them over in the same install, and a re-apply is a no-op."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.support.cluster_fixtures import HelmEnv
from toolkit.adapters.helm import Helm
from toolkit.cli import cli
from toolkit.errors import EXIT_CONFLICT, EXIT_OK, HelmError

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

ROOT = Path(__file__).parents[2]
LABELS = {"k8s-app": "kube-dns"}


def kubeadm_coredns(namespace: str, cluster_ip: str) -> list[tuple[str, dict[str, Any]]]:
    """The objects kubeadm's `addon coredns` phase creates (as TKEStack's `kubeadm init phase addon all`)."""
    pod = {"metadata": {"labels": LABELS}, "spec": {"serviceAccountName": "coredns", "containers": [
        {"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.8.0", "args": ["-conf", "/etc/coredns/Corefile"]}]}}
    return [
        (f"/api/v1/namespaces/{namespace}/serviceaccounts", {"metadata": {"name": "coredns"}}),
        (f"/api/v1/namespaces/{namespace}/configmaps",
         {"metadata": {"name": "coredns"}, "data": {"Corefile": ".:53 {\n    errors\n}\n"}}),
        (f"/api/v1/namespaces/{namespace}/services",
         {"metadata": {"name": "kube-dns", "labels": {**LABELS, "kubernetes.io/name": "CoreDNS"}},
          "spec": {"clusterIP": cluster_ip, "selector": LABELS,
                   "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                             {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}}),
        (f"/apis/apps/v1/namespaces/{namespace}/deployments",
         {"metadata": {"name": "coredns", "labels": LABELS},
          "spec": {"replicas": 2, "selector": {"matchLabels": LABELS}, "template": pod}}),
    ]


@pytest.fixture
def project(tmp_path: Path, helm_env: HelmEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    uid = uuid.uuid4().hex[:6]
    namespace = f"dns-{uid}"
    root = tmp_path / "project"
    (root / "catalog").mkdir(parents=True)
    shutil.copytree(ROOT / "charts" / "platform" / "coredns", root / "charts" / "platform" / "coredns")
    (root / "catalog" / "catalog.yaml").write_text(
        "apiVersion: tke-catalog/v1\nkind: Catalog\napps:\n"
        f"  - {{name: coredns, chart: charts/platform/coredns, category: dns, tier: cluster, namespace: {namespace},"
        " default: true, critical: true}\n")
    (root / "cluster.yaml").write_text(f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata: {{name: cls-adopt-{uid}}}
spec:
  version: 1.36.3
  serviceCIDR: 10.96.128.0/17
  kubeletExtraArgs: {{cgroup-driver: systemd}}
  features: {{containerRuntime: containerd}}
""")
    monkeypatch.setenv("TKE_CATALOG_HELM", str(helm_env.helm))
    monkeypatch.setenv("TKE_CATALOG_CACHE", str(tmp_path / "cache"))
    plane = helm_env.control_plane
    plane.api_create("/api/v1/namespaces", {"metadata": {"name": namespace}})
    for path, body in kubeadm_coredns(namespace, "10.96.128.10"):
        plane.api_create(path, body)
    yield {"root": root, "namespace": namespace, "env": helm_env}
    try:
        Helm(str(helm_env.helm), kubeconfig=helm_env.kubeconfig).uninstall("coredns", namespace, timeout="60s")
    except HelmError:
        pass  # never installed (a failed run); the namespace goes below
    plane._request("DELETE", f"/api/v1/namespaces/{namespace}")


def apply(project: dict[str, Any], *args: str) -> Result:
    return CliRunner().invoke(cli, ["apply", str(project["root"] / "cluster.yaml"), "--root", str(project["root"]),
                                    "--kubeconfig", str(project["env"].kubeconfig), "--yes", "--no-wait",
                                    "--timeout", "60s", "--output", "json", *args])


def annotations(project: dict[str, Any], path: str) -> dict[str, str]:
    found: dict[str, str] = project["env"].control_plane.api_get(path)["metadata"].get("annotations") or {}
    return found


def test_kubeadms_coredns_is_adopted_only_with_consent(project: dict[str, Any]) -> None:
    namespace = project["namespace"]
    service = f"/api/v1/namespaces/{namespace}/services/kube-dns"
    deployment = f"/apis/apps/v1/namespaces/{namespace}/deployments/coredns"
    planned = CliRunner().invoke(cli, ["plan", str(project["root"] / "cluster.yaml"), "--root", str(project["root"]),
                                       "--kubeconfig", str(project["env"].kubeconfig), "-o", "json"])
    assert planned.exit_code == EXIT_OK, planned.output
    [entry] = json.loads(planned.stdout)["releases"]
    assert entry["action"] == "conflict" and "Service/kube-dns" in entry["reason"]
    refused = apply(project)
    assert refused.exit_code == EXIT_CONFLICT, refused.output
    assert "objects exist that this release does not own" in refused.output
    for name in ("Service/kube-dns", "Deployment/coredns", "ConfigMap/coredns", "ServiceAccount/coredns"):
        assert name in refused.output
    assert "meta.helm.sh/release-name" not in annotations(project, service)  # nothing was changed
    helm = Helm(str(project["env"].helm), kubeconfig=project["env"].kubeconfig)
    assert not [r for r in helm.list_releases() if r.namespace == namespace]

    adopted = apply(project, "--take-over", "coredns")
    assert adopted.exit_code == EXIT_OK, adopted.output
    document = json.loads(adopted.stdout)
    assert {r["name"]: r["outcome"] for r in document["releases"]} == {"coredns": "installed"}
    for path in (service, deployment):
        assert annotations(project, path)["meta.helm.sh/release-name"] == "coredns"
    plane = project["env"].control_plane
    image = plane.api_get(deployment)["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith("coredns/coredns:v1.12.1")  # the chart's Deployment now, not kubeadm's
    assert plane.api_get(service)["spec"]["clusterIP"] == "10.96.128.10"

    again = apply(project)
    assert again.exit_code == EXIT_OK, again.output
    assert {r["outcome"] for r in json.loads(again.stdout)["releases"]} == {"unchanged"}

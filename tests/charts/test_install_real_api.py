"""Every chart, in its defaults and in every `ci/` variant, installed with the real helm into the real
kube-apiserver of the test bed: the release Secret and every rendered object must exist there, and
uninstalling must remove the release again.

The API server runs no controllers, so nothing turns Ready and namespaces never finish terminating:
each case gets its own namespace and release name and installs with `wait=False`.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster_fixtures import HelmEnv
from tests.support.control_plane import KUBE_VERSION, SERVICE_CIDR, ControlPlane
from toolkit.adapters.helm import Helm
from toolkit.core.chart_choice import admits
from toolkit.core.cluster import kube_version
from toolkit.core.yamldoc import parse_yaml, to_plain

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = "60s"

# kind -> (plural, namespaced) for every kind the charts render. A kind missing here fails the case,
# so a new kind cannot slip through unchecked.
KINDS: dict[str, tuple[str, bool]] = {
    "ConfigMap": ("configmaps", True),
    "Secret": ("secrets", True),
    "Service": ("services", True),
    "ServiceAccount": ("serviceaccounts", True),
    "PersistentVolumeClaim": ("persistentvolumeclaims", True),
    "Deployment": ("deployments", True),
    "DaemonSet": ("daemonsets", True),
    "StatefulSet": ("statefulsets", True),
    "Job": ("jobs", True),
    "Role": ("roles", True),
    "RoleBinding": ("rolebindings", True),
    "ClusterRole": ("clusterroles", False),
    "ClusterRoleBinding": ("clusterrolebindings", False),
    "CustomResourceDefinition": ("customresourcedefinitions", False),
    "APIService": ("apiservices", False),
    "MutatingWebhookConfiguration": ("mutatingwebhookconfigurations", False),
    "ValidatingWebhookConfiguration": ("validatingwebhookconfigurations", False),
}


def _dns_label(text: str, limit: int) -> str:
    """`text` as a DNS-1123 label of at most `limit` characters."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower())[:limit].strip("-")


@dataclass(frozen=True)
class Case:
    """One chart with one values file (None: the chart's defaults)."""

    chart: Path
    values_file: Path | None

    @property
    def name(self) -> str:
        variant = self.values_file.name.removesuffix("-values.yaml") if self.values_file else "defaults"
        return f"{self.chart.name}-{variant}"

    @property
    def release(self) -> str:
        return _dns_label(self.name, 53)  # helm's limit for release names

    @property
    def namespace(self) -> str:
        return _dns_label(f"install-{self.name}", 63)

    def values(self) -> dict[str, Any]:
        """The variant's values as helm reads them (YAML 1.1: `yes`/`on` are booleans), fitted to the test bed."""
        if self.values_file is None:
            return {}
        fitted = _fit_cluster_ips(_read_values(self.values_file))
        assert isinstance(fitted, dict)
        return fitted


def _read_values(path: Path) -> dict[str, Any]:
    plain = to_plain(parse_yaml(path.read_text(), str(path), version=(1, 1)))
    return plain if isinstance(plain, dict) else {}


def _fit_cluster_ips(node: Any) -> Any:
    """Move every `clusterIP` value into the test bed's service CIDR, keeping its offset in the network.

    A variant pins an address of the cluster it was written for (e.g. kubeadm's 10.96.0.10); the API
    server only allocates from its own --service-cluster-ip-range and rejects anything else.
    """
    if isinstance(node, list):
        return [_fit_cluster_ips(item) for item in node]
    if not isinstance(node, dict):
        return node
    fitted = {key: _fit_cluster_ips(value) for key, value in node.items()}
    address = fitted.get("clusterIP")
    if isinstance(address, str) and address not in ("", "None"):
        network = ipaddress.ip_network(SERVICE_CIDR)
        if ipaddress.ip_address(address) not in network:
            offset = int(ipaddress.ip_address(address)) % network.num_addresses
            fitted["clusterIP"] = str(network[offset])
    return fitted


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of maps, enough to know the effective value of a few keys."""
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def _admits_test_server(chart: Path) -> bool:
    """Whether helm may install the chart into the test bed's API server: an older line of a chart (e.g.
    cilium@1.14) excludes it by design; tests/matrix/test_api_servers.py dry-runs those on 1.29."""
    kube = _read_values(chart / "Chart.yaml").get("kubeVersion")
    return admits(str(kube) if kube else None, kube_version(KUBE_VERSION.lstrip("v")))


def _needs_crds_of_others(chart: Path) -> bool:
    """Charts whose objects need CRDs something else registers at run time (cilium-bgp: the operator's);
    tests/apply/test_apply_cilium_bgp.py installs them once a stand-in registered those."""
    return "tke-catalog.io/wait-for-crds" in ((_read_values(chart / "Chart.yaml").get("annotations")) or {})


def _cases() -> list[Case]:
    charts = sorted({path.parents[1] for path in ROOT.glob("charts/*/*/ci/*-values.yaml")})
    return [Case(chart, values) for chart in charts if _admits_test_server(chart) and not _needs_crds_of_others(chart)
            for values in [None, *sorted((chart / "ci").glob("*-values.yaml"))]]


CASES = _cases()


def _object_path(doc: dict[str, Any], release_namespace: str) -> str:
    kind = doc["kind"]
    if kind not in KINDS:
        pytest.fail(f"{kind} {doc['metadata']['name']!r} has no REST path: add it to KINDS in {Path(__file__).name}",
                    pytrace=False)
    plural, namespaced = KINDS[kind]
    api_version = doc["apiVersion"]
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    name = doc["metadata"]["name"]
    if not namespaced:
        return f"{prefix}/{plural}/{name}"
    namespace = doc["metadata"].get("namespace") or release_namespace
    return f"{prefix}/namespaces/{namespace}/{plural}/{name}"


def _release_secret(case: Case) -> str:
    return f"/api/v1/namespaces/{case.namespace}/secrets/sh.helm.release.v1.{case.release}.v1"


def _configmap_data(plane: ControlPlane, namespace: str, name: str) -> dict[str, str]:
    data: dict[str, str] = plane.api_get(f"/api/v1/namespaces/{namespace}/configmaps/{name}").get("data") or {}
    return data


def _check_cilium(plane: ControlPlane, case: Case, values: dict[str, Any]) -> None:
    effective = _merged(_read_values(case.chart / "values.yaml"), values)
    data = _configmap_data(plane, case.namespace, "cilium-config")
    if effective["mode"] == "overlay":
        assert data.get("routing-mode") == "tunnel", data
        assert data.get("tunnel-protocol") == effective["tunnelProtocol"], data
        assert "ipv4-native-routing-cidr" not in data, data
    else:
        assert effective["mode"] == "underlay", effective["mode"]
        assert data.get("routing-mode") == "native", data
        assert data.get("ipv4-native-routing-cidr") == effective["nativeRoutingCIDR"], data
        assert "tunnel-protocol" not in data, data


def _check_galaxy(plane: ControlPlane, case: Case, values: dict[str, Any],
                  manifest: list[dict[str, Any]]) -> None:
    holders = [doc["metadata"]["name"] for doc in manifest
               if doc["kind"] == "ConfigMap" and "net-conf.json" in (doc.get("data") or {})]
    assert len(holders) == 1, f"expected one ConfigMap with net-conf.json, got {holders}"
    net_conf = json.loads(_configmap_data(plane, case.namespace, holders[0])["net-conf.json"])
    expected = values.get("flannel", {}).get("backendType", "vxlan")
    assert net_conf["Backend"]["Type"] == expected, net_conf


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_chart_variant_installs_into_the_real_api_server(case: Case, helm_env: HelmEnv) -> None:
    plane = helm_env.control_plane
    assert plane.version() == KUBE_VERSION
    helm = Helm(str(helm_env.helm), kubeconfig=helm_env.kubeconfig)
    values = case.values()
    try:
        helm.upgrade_install(case.release, case.chart, case.namespace, values, wait=False, timeout=TIMEOUT)

        secret = plane.api_get(_release_secret(case))
        assert secret["type"] == "helm.sh/release.v1"

        manifest = helm.template(case.chart, case.release, case.namespace, values)
        assert manifest, f"{case.name} renders nothing"
        missing = [f"{doc['kind']}/{doc['metadata']['name']}" for doc in manifest
                   if not plane.api_exists(_object_path(doc, case.namespace))]
        assert not missing, f"rendered by {case.name} but absent from the API server: {missing}"

        if case.chart.name == "cilium":
            _check_cilium(plane, case, values)
        elif case.chart.name == "galaxy":
            _check_galaxy(plane, case, values, manifest)
    finally:
        if plane.api_exists(_release_secret(case)):
            helm.uninstall(case.release, case.namespace, timeout=TIMEOUT)

    assert not plane.api_exists(_release_secret(case)), f"{case.name}: the release Secret outlived uninstall"

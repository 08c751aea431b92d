"""Cilium underlay in one apply, against the real API server and helm: the cilium-bgp app installs after
Cilium once the BGP CRDs exist, with the AS number and switch from networkArgs, in the BGP API of the
line the matrix picked. No cilium-operator runs here, so a marked stand-in registers its CRDs (as the
operator does at its first start) while apply waits; without it apply fails naming the CRD."""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.support.cluster_fixtures import SESSION_TTL_SECONDS, make_helm_env
from tests.support.control_plane import ControlPlane
from toolkit.cli import cli
from toolkit.errors import EXIT_OK, EXIT_OPERATIONAL

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

ROOT = Path(__file__).parents[2]
BGP_KINDS = {"CiliumBGPClusterConfig": "ciliumbgpclusterconfigs", "CiliumBGPPeerConfig": "ciliumbgppeerconfigs",
             "CiliumBGPAdvertisement": "ciliumbgpadvertisements"}


def stand_in_operator_crds(plane: ControlPlane) -> None:
    """STAND-IN for cilium-operator: register the cilium.io/v2 BGP CRDs it creates at its first start
    (schemas reduced to "anything": the shape of the objects is Cilium's to check, not this test's)."""
    for kind, plural in BGP_KINDS.items():
        name = f"{plural}.cilium.io"
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        if plane.api_exists(f"{path}/{name}"):
            continue
        plane.api_create(path, {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                                "metadata": {"name": name},
                                "spec": {"group": "cilium.io", "scope": "Cluster",
                                         "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                                         "versions": [{"name": "v2", "served": True, "storage": True,
                                                       "schema": {"openAPIV3Schema": {
                                                           "type": "object",
                                                           "x-kubernetes-preserve-unknown-fields": True}}}]}})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The real catalog against an API server of its own: Cilium's cluster-scoped objects have fixed
    names (cilium-agent, ...), so no other test's Cilium may share it."""
    uid = uuid.uuid4().hex[:6]
    namespace = f"net-{uid}"
    root = tmp_path / "project"
    shutil.copytree(ROOT / "catalog", root / "catalog")
    shutil.copytree(ROOT / "charts", root / "charts")
    catalog = root / "catalog" / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("namespace: kube-system", f"namespace: {namespace}"))
    (root / "cluster.yaml").write_text(f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata: {{name: cls-bgp-{uid}}}
spec:
  version: 1.36.3
  clusterCIDR: 172.20.0.0/16
  serviceCIDR: 10.96.64.0/18
  kubeletExtraArgs: {{cgroup-driver: systemd}}
  networkArgs: {{networkMode: underlay, asn: "65010", switch-ip: 192.168.10.1}}
  features:
    enableCilium: true
    containerRuntime: containerd
    disabledApps: [coredns, containerd-config]
""")
    monkeypatch.setenv("TKE_CATALOG_CACHE", str(tmp_path / "cache"))
    with ControlPlane(tmp_path / "plane", ttl=SESSION_TTL_SECONDS) as plane:
        env = make_helm_env(plane, tmp_path / "helm-home", monkeypatch)
        monkeypatch.setenv("TKE_CATALOG_HELM", str(env.helm))
        yield {"root": root, "namespace": namespace, "env": env, "uid": uid}


def apply(project: dict[str, Any], *args: str) -> Result:
    return CliRunner().invoke(cli, ["apply", str(project["root"] / "cluster.yaml"), "--root", str(project["root"]),
                                    "--kubeconfig", str(project["env"].kubeconfig), "--yes", "--no-wait",
                                    "--output", "json", *args])


def test_bgp_peering_arrives_in_the_same_apply(project: dict[str, Any]) -> None:
    plane: ControlPlane = project["env"].control_plane

    def operator_starts() -> None:  # the stand-in registers the CRDs only after Cilium is installed
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if plane.api_exists(f"/api/v1/namespaces/{project['namespace']}/configmaps/cilium-config"):
                time.sleep(2)
                stand_in_operator_crds(plane)
                return
            time.sleep(0.2)

    thread = threading.Thread(target=operator_starts, daemon=True)
    thread.start()
    result = apply(project, "--timeout", "90s")
    thread.join(timeout=5)
    assert result.exit_code == EXIT_OK, result.output
    assert "cilium-bgp: waiting for CRD ciliumbgpclusterconfigs.cilium.io" in result.output
    outcomes = {r["name"]: r["outcome"] for r in json.loads(result.stdout)["releases"]}
    assert outcomes["cilium"] == outcomes["cilium-bgp"] == "installed"
    config = plane.api_get("/apis/cilium.io/v2/ciliumbgpclusterconfigs/cilium-bgp")
    [instance] = config["spec"]["bgpInstances"]
    assert instance["localASN"] == 65010
    assert instance["peers"][0]["peerAddress"] == "192.168.10.1" and instance["peers"][0]["peerASN"] == 65010
    cilium_config = plane.api_get(f"/api/v1/namespaces/{project['namespace']}/configmaps/cilium-config")["data"]
    assert cilium_config["routing-mode"] == "native" and cilium_config["enable-bgp-control-plane"] == "true"
    # pods keep their addresses inside the cluster CIDR and are masqueraded beyond it (TKEStack's ip-masq-agent)
    assert cilium_config["enable-ipv4-masquerade"] == "true"
    assert cilium_config["ipv4-native-routing-cidr"] == "172.20.0.0/16"
    assert "tunnel-protocol" not in cilium_config
    agent = plane.api_get(f"/apis/apps/v1/namespaces/{project['namespace']}/daemonsets/cilium-agent")
    # cilium-operator finds the agents by k8s-app=cilium; without it the agent-not-ready taint stays
    assert agent["spec"]["template"]["metadata"]["labels"]["k8s-app"] == "cilium"
    inits = [c["name"] for c in agent["spec"]["template"]["spec"]["initContainers"]]
    assert {"apply-sysctl-overwrites", "clean-cilium-state", "mount-bpf-fs"} <= set(inits)


def test_without_the_operators_crds_apply_fails_naming_them(project: dict[str, Any]) -> None:
    result = apply(project, "--timeout", "5s")
    assert result.exit_code == EXIT_OPERATIONAL, result.output
    assert "CRD ciliumbgpclusterconfigs.cilium.io" in result.output and "not registered after 5s" in result.output
    outcomes = {r["name"]: r["outcome"] for r in json.loads(result.stdout)["releases"]}
    assert outcomes["cilium"] == "installed" and outcomes["cilium-bgp"] == "failed"

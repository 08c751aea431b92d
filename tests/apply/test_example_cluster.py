"""The example Cluster (Cilium, containerd, default addons) plus a custom chart from a local registry
installs from scratch onto the realism tier with --wait; helm and the API show every release and object."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.cluster_fixtures import HelmEnv
from tests.support.control_plane import ControlPlane
from toolkit.adapters.helm import Helm
from toolkit.cli import cli

pytestmark = [pytest.mark.cluster, pytest.mark.helm, pytest.mark.registry, pytest.mark.realism]

ROOT = Path(__file__).resolve().parents[2]


def tool(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_example_cluster_installs_from_scratch(realistic_control_plane: ControlPlane, helm_env: HelmEnv,
                                               fresh_registry, tmp_path: Path,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TKE_CATALOG_HELM", str(helm_env.helm))
    monkeypatch.setenv("TKE_CATALOG_CACHE", str(tmp_path / "cache"))
    server = fresh_registry("plain")
    lock = tmp_path / "catalog.lock"
    tool("publish", "--registry", server.oci("charts"), "--plain-http", "--lock", str(lock), "--root", str(ROOT))
    tool("publish", "--registry", server.oci("custom"), "--plain-http", "--lock", str(tmp_path / "custom.lock"),
         "--root", str(ROOT), str(ROOT / "examples" / "charts" / "hello"))
    cluster = tmp_path / "cluster.yaml"
    shutil.copy(ROOT / "examples" / "cluster.yaml", cluster)
    tool("apps", "add", str(cluster), "hello", "--repo", server.oci("custom"), "--version", "^1.0",
         "--namespace", "demo", "--set", "message=hi", "--plain-http", "--root", str(ROOT))

    report = json.loads(tool("apply", str(cluster), "--kubeconfig", str(helm_env.kubeconfig), "--root", str(ROOT),
                             "--registry", server.oci("charts"), "--plain-http", "--lock", str(lock), "--yes",
                             "--wait", "--timeout", "120s", "--output", "json"))
    expected = {"containerd-config", "cilium", "coredns", "metrics-server", "cron-hpa", "tapp-controller", "hello"}
    assert {r["name"]: r["outcome"] for r in report["releases"]} == dict.fromkeys(expected, "installed")

    releases = {r.name: r for r in Helm(str(helm_env.helm), kubeconfig=helm_env.kubeconfig).list_releases()}
    assert {name: releases[name].status for name in expected} == dict.fromkeys(expected, "deployed")
    plane = realistic_control_plane
    config = plane.api_get("/api/v1/namespaces/kube-system/configmaps/cilium-config")["data"]
    assert config["routing-mode"] == "tunnel" and config["tunnel-protocol"] == "vxlan"
    agent = plane.api_list("/apis/apps/v1/namespaces/kube-system/daemonsets",
                           label_selector="app.kubernetes.io/instance=cilium")
    assert agent and all(d["status"].get("numberReady") == d["status"].get("desiredNumberScheduled") for d in agent)
    hello = plane.api_get("/apis/apps/v1/namespaces/demo/deployments/hello")
    assert hello["status"].get("readyReplicas") == 1
    assert plane.api_get("/api/v1/namespaces/demo/configmaps/hello-page")["data"]["index.html"] == "hi"

    again = json.loads(tool("apply", str(cluster), "--kubeconfig", str(helm_env.kubeconfig), "--root", str(ROOT),
                            "--registry", server.oci("charts"), "--plain-http", "--lock", str(lock), "--yes",
                            "--output", "json"))
    assert {r["outcome"] for r in again["releases"]} == {"unchanged"}
    after = {r.name: r.revision for r in Helm(str(helm_env.helm), kubeconfig=helm_env.kubeconfig).list_releases()}
    assert {name: after[name] for name in expected} == {name: releases[name].revision for name in expected}

"""Live facts from a real API server: nodes whose kubelets report an old kernel or another runtime.
`plan --kubeconfig` refuses a Cilium line the nodes' kernel cannot run (exit 3, naming the node) and
warns where the Cluster file's runtime or version disagrees; apply refuses before changing anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.cluster_fixtures import SESSION_TTL_SECONDS, make_helm_env
from tests.support.control_plane import ControlPlane
from toolkit.cli import cli
from toolkit.errors import EXIT_INPUT, EXIT_OK

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

ROOT = Path(__file__).parents[2]
CLUSTER = """apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata: {name: cls-live}
spec:
  version: 1.21.4-tke.1
  serviceCIDR: 10.96.0.0/16
  features: {enableCilium: true, containerRuntime: containerd}
"""


def add_node(plane: ControlPlane, name: str, kernel: str, runtime: str) -> None:
    plane.api_create("/api/v1/nodes", {"metadata": {"name": name}})
    node = plane.api_get(f"/api/v1/nodes/{name}")
    node["status"] = {"nodeInfo": {"kernelVersion": kernel, "containerRuntimeVersion": runtime,
                                   "kubeletVersion": "v1.21.4", "kubeProxyVersion": "v1.21.4",
                                   "machineID": "m", "systemUUID": "s", "bootID": "b", "osImage": "CentOS 7",
                                   "operatingSystem": "linux", "architecture": "amd64"}}
    answer = plane._request("PUT", f"/api/v1/nodes/{name}/status", json=node)
    assert answer.ok, answer.text


def test_an_old_kernel_refuses_the_cilium_line_and_other_facts_warn(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(CLUSTER)
    with ControlPlane(tmp_path / "plane", ttl=SESSION_TTL_SECONDS) as plane:
        env = make_helm_env(plane, tmp_path / "helm-home", monkeypatch)
        monkeypatch.setenv("TKE_CATALOG_HELM", str(env.helm))
        add_node(plane, "node-a", "3.10.0-1160.el7.x86_64", "containerd://1.5.4")
        add_node(plane, "node-b", "5.4.0-150-generic", "docker://19.3.14")

        def plan() -> tuple[int, dict[str, object]]:
            result = CliRunner().invoke(cli, ["plan", str(cluster), "--root", str(ROOT), "--kubeconfig",
                                              str(plane.kubeconfig), "-o", "json"])
            return result.exit_code, json.loads(result.stdout)

        code, document = plan()
        assert code == EXIT_INPUT
        findings = {f["rule"]: f for f in document["findings"]}  # type: ignore[union-attr]
        kernel = findings["live-kernel"]
        assert "node-a" in kernel["message"] and "3.10.0-1160.el7.x86_64" in kernel["message"]
        assert "needs Linux 4.19.57" in kernel["message"]
        applied = CliRunner().invoke(cli, ["apply", str(cluster), "--root", str(ROOT), "--kubeconfig",
                                           str(plane.kubeconfig), "--yes", "--no-wait"])
        assert applied.exit_code == EXIT_INPUT and "node-a" in applied.output
        assert not plane.api_list("/api/v1/namespaces/kube-system/secrets", label_selector="owner=helm")

        plane._request("DELETE", "/api/v1/nodes/node-a")
        code, document = plan()
        assert code == EXIT_OK
        rules = {f["rule"] for f in document["findings"]}  # type: ignore[union-attr]
        assert {"live-runtime", "live-version"} <= rules and "live-kernel" not in rules

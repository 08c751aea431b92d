"""kube-scheduler calls the extenders the catalog wires: the real kube-scheduler starts with the
configuration `tke-catalog scheduler-config` prints for a Cluster (only the API credentials, the
extender's address and leader election adapted), against the real API server, and a small test extender
on 127.0.0.1 that approves one node. A pod asking for the extender's resource lands on that node, and
only after the extender approved it (and, for galaxy-ipam, bound it itself)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from tests.support.cluster_fixtures import SESSION_TTL_SECONDS
from tests.support.control_plane import ControlPlane, eventually, fake_node
from tests.support.process import ServerProcess, binary, free_port
from toolkit.cli import cli
from toolkit.core.scheduler_config import scheduler_configuration

pytestmark = [pytest.mark.cluster, pytest.mark.helm, pytest.mark.realism]

ROOT = Path(__file__).parents[2]
APPROVED, REFUSED = "node-approved", "node-refused"


class Extender:
    """A scheduler extender on 127.0.0.1 that approves only APPROVED and, when asked to bind, binds
    through the API server as galaxy-ipam does. It records every call."""

    def __init__(self, plane: ControlPlane, prefix: str) -> None:
        self.plane, self.prefix, self.calls = plane, prefix, []
        extender = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                verb = self.path.removeprefix(extender.prefix).strip("/")
                answer = extender.answer(verb, body)
                data = json.dumps(answer).encode() if answer is not None else b"not found"
                self.send_response(200 if answer is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{self.prefix}"

    def answer(self, verb: str, body: dict[str, Any]) -> dict[str, Any] | None:
        if verb in ("filter", "predicates"):
            pod = body["Pod"]["metadata"]["name"]
            nodes = body["Nodes"]["items"]
            self.calls.append(("filter", pod, sorted(n["metadata"]["name"] for n in nodes)))
            return {"Nodes": {"items": [n for n in nodes if n["metadata"]["name"] == APPROVED]},
                    "FailedNodes": {n["metadata"]["name"]: "no floating IP left in its subnet"
                                    for n in nodes if n["metadata"]["name"] != APPROVED}, "Error": ""}
        if verb == "bind":
            self.calls.append(("bind", body["PodName"], [body["Node"]]))
            self.plane.api_create(f"/api/v1/namespaces/{body['PodNamespace']}/pods/{body['PodName']}/binding", {
                "apiVersion": "v1", "kind": "Binding", "metadata": {"name": body["PodName"]},
                "target": {"apiVersion": "v1", "kind": "Node", "name": body["Node"]}})
            return {"Error": ""}
        return None

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """An API server with two schedulable nodes that advertise vGPU resources; no default scheduler."""
    if binary("kube-scheduler") is None:
        pytest.skip("kube-scheduler not found (scripts/setup.sh control-plane builds it)")
    with ControlPlane(tmp_path_factory.mktemp("extenders"), ttl=SESSION_TTL_SECONDS) as control:
        allocatable = {"cpu": "16", "memory": "64Gi", "pods": "110", "tencent.com/vcuda-core": "200",
                       "tencent.com/vcuda-memory": "64"}
        for name in (APPROVED, REFUSED):
            node = fake_node(name, allocatable)
            control.api_create("/api/v1/nodes", node)
            control._request("PATCH", f"/api/v1/nodes/{name}/status",
                             headers={"Content-Type": "application/merge-patch+json"},
                             data=json.dumps({"status": {**node["status"], "conditions": [
                                 {"type": "Ready", "status": "True", "reason": "KubeletReady"}]}})).raise_for_status()
            # the API server taints new nodes not-ready; no node lifecycle controller runs here to lift it
            control._request("PATCH", f"/api/v1/nodes/{name}", headers={"Content-Type": "application/merge-patch+json"},
                             data=json.dumps({"spec": {"taints": None}})).raise_for_status()
        yield control


def _cluster(tmp_path: Path, version: str, spec: str) -> Path:
    path = tmp_path / "cluster.yaml"
    path.write_text(f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata: {{name: cls-sched}}
spec:
  version: {version}
  clusterCIDR: 10.244.0.0/16
  kubeletExtraArgs: {{cgroup-driver: systemd}}
{spec}""")
    return path


def _printed_config(cluster: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["scheduler-config", str(cluster), "--root", str(ROOT), "--output", "json"])
    assert result.exit_code == 0, result.output
    config: dict[str, Any] = json.loads(result.stdout)["config"]
    return config


def _run_scheduler(plane: ControlPlane, config: dict[str, Any], folder: Path, url: str) -> ServerProcess:
    """kube-scheduler on the shipped configuration, adapted: our kubeconfig, the test extender's address,
    no leader election."""
    adapted = {**config, "clientConnection": {"kubeconfig": str(plane.kubeconfig)},
               "leaderElection": {"leaderElect": False},
               "extenders": [{**e, "urlPrefix": url} for e in config["extenders"]]}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scheduler-config.yaml"
    with path.open("w") as stream:
        YAML().dump(adapted, stream)
    kubeconfig = str(plane.kubeconfig)
    process = ServerProcess("kube-scheduler-extenders", [
        "timeout", "600", str(binary("kube-scheduler")), f"--config={path}", "--bind-address=127.0.0.1",
        f"--secure-port={free_port()}", f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}"], folder / "kube-scheduler.log")
    return process


def _pod(plane: ControlPlane, namespace: str, name: str, resources: dict[str, str]) -> None:
    plane.api_create(f"/api/v1/namespaces/{namespace}/pods", {"metadata": {"name": name}, "spec": {"containers": [
        {"name": "app", "image": "registry.k8s.io/pause:3.10",
         "resources": {"requests": resources, "limits": resources}}]}})


def _node_of(plane: ControlPlane, namespace: str, name: str) -> str | None:
    return plane.api_get(f"/api/v1/namespaces/{namespace}/pods/{name}")["spec"].get("nodeName")


def _namespace(plane: ControlPlane) -> str:
    name = f"sched-{uuid.uuid4().hex[:6]}"
    plane.api_create("/api/v1/namespaces", {"metadata": {"name": name}})
    return name


def test_gpu_quota_admission_filters_the_nodes_of_vgpu_pods(tmp_path: Path, plane: ControlPlane) -> None:
    """The configuration printed for a Kubernetes 1.36 Cluster with gpuType Virtual, run as it is."""
    config = _printed_config(_cluster(tmp_path, "1.36.3", "  features: {containerRuntime: containerd, gpuType: Virtual}\n"))
    assert config["apiVersion"] == "kubescheduler.config.k8s.io/v1"
    extender = Extender(plane, "/scheduler")
    scheduler = _run_scheduler(plane, config, tmp_path / "scheduler", extender.url)
    namespace = _namespace(plane)
    try:
        _pod(plane, namespace, "vgpu", {"cpu": "100m", "tencent.com/vcuda-core": "50"})
        _pod(plane, namespace, "plain", {"cpu": "100m"})
        eventually(lambda: _node_of(plane, namespace, "vgpu") and _node_of(plane, namespace, "plain"), timeout=60)
        assert _node_of(plane, namespace, "vgpu") == APPROVED
        # the extender was asked about both nodes, and only for the pod using its managed resources
        assert ("filter", "vgpu", [APPROVED, REFUSED]) in extender.calls
        assert all(pod == "vgpu" for _, pod, _ in extender.calls)
    finally:
        scheduler.stop()
        extender.stop()


def test_galaxy_ipam_filters_and_binds_floating_ip_pods(tmp_path: Path, plane: ControlPlane) -> None:
    """galaxy-ipam serves Kubernetes 1.19-1.21 (kubescheduler.config.k8s.io/v1beta1, which no
    kube-scheduler built here reads): its extenders entry, printed for a TKEStack 1.21 Cluster, is run
    in the v1 configuration the same code writes for 1.36 (the extender fields are the same)."""
    printed = _printed_config(_cluster(tmp_path, "1.21.4-tke.1", "  features: {containerRuntime: containerd}\n"
                                       "  bootstrapApps:\n    - app:\n        spec:\n          name: galaxy-ipam\n"
                                       "          chart: {chartName: galaxy-ipam}\n"))
    assert printed["apiVersion"] == "kubescheduler.config.k8s.io/v1beta1"
    [entry] = printed["extenders"]
    assert entry["urlPrefix"].endswith(":9040/v1") and entry["bindVerb"] == "bind"
    extender = Extender(plane, "/v1")
    scheduler = _run_scheduler(plane, scheduler_configuration([entry], 36), tmp_path / "scheduler", extender.url)
    namespace = _namespace(plane)
    try:
        _pod(plane, namespace, "floating", {"cpu": "100m", "tke.cloud.tencent.com/eni-ip": "1"})
        eventually(lambda: _node_of(plane, namespace, "floating"), timeout=60)
        assert _node_of(plane, namespace, "floating") == APPROVED
        verbs = [verb for verb, pod, _ in extender.calls if pod == "floating"]
        assert verbs[0] == "filter" and "bind" in verbs, extender.calls
    finally:
        scheduler.stop()
        extender.stop()


def test_an_extender_that_does_not_answer_keeps_its_pods_pending(tmp_path: Path, plane: ControlPlane) -> None:
    """The oracle has teeth: with the extender's verb wrong (galaxy's "filter" sent to gpu-quota-admission's
    "predicates" server) the scheduler cannot place the pod."""
    config = _printed_config(_cluster(tmp_path, "1.36.3", "  features: {containerRuntime: containerd, gpuType: Virtual}\n"))
    config["extenders"][0]["filterVerb"] = "filter-typo"
    extender = Extender(plane, "/scheduler")
    scheduler = _run_scheduler(plane, config, tmp_path / "scheduler", extender.url)
    namespace = _namespace(plane)
    try:
        _pod(plane, namespace, "vgpu", {"cpu": "100m", "tencent.com/vcuda-core": "50"})
        time.sleep(8)
        assert _node_of(plane, namespace, "vgpu") is None
    finally:
        scheduler.stop()
        extender.stop()

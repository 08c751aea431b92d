"""A real fleet for the controller: a management API server holding Cluster objects (our CRD, installed
by helm from the controller's own chart) and two business API servers, each its own etcd; the
controller runs as a separate `tke-catalog controller` process, as it would in a pod.

Business clusters are reached through a TCP relay the tests can switch off and on (a cluster that goes
down and comes back at the same address), and through `<cluster>-kubeconfig` Secrets like any user's.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.cluster_fixtures import SESSION_TTL_SECONDS, _require
from tests.support.control_plane import (
    ControlPlane,
    KubeApiError,
    eventually,
    missing_binaries,
)
from tests.support.process import ServerProcess, free_port
from tests.support.registry_fixtures import require_helm

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "tests" / "fixtures" / "apply" / "project"
CHART = REPO / "charts" / "platform" / "tke-catalog-controller"
NAMESPACE = "tke-catalog-system"
CLUSTERS = "/apis/platform.tkestack.io/v1/clusters"
HELM_OWNER = "owner=helm"


class Relay:
    """A TCP relay on a fixed loopback port to `target`; `down()` refuses connections (and cuts the
    open ones) until `up()`: a business cluster that goes away and comes back at the same address."""

    def __init__(self, target: int) -> None:
        self.target, self.port = target, free_port()
        self._server: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def down(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        with self._lock:
            for conn in self._open:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self._open.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for conn in (source, sink):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@dataclass
class Business:
    """One business cluster: its API server and the kubeconfig (through its relay) users store."""

    plane: ControlPlane
    relay: Relay

    def kubeconfig_text(self) -> str:
        config = json.loads(self.plane.kubeconfig.read_text())
        config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{self.relay.port}"
        return json.dumps(config)

    def releases(self, namespace: str) -> dict[str, dict[str, Any]]:
        """name → {revision, status, values...} of helm's newest record of each release (its Secrets)."""
        newest: dict[str, dict[str, Any]] = {}
        for secret in self.plane.api_list(f"/api/v1/namespaces/{namespace}/secrets", label_selector=HELM_OWNER):
            labels = secret["metadata"]["labels"]
            name, revision = labels["name"], int(labels["version"])
            if name not in newest or newest[name]["revision"] < revision:
                newest[name] = {"revision": revision, "status": labels["status"]}
        return newest

    def revisions(self, namespace: str) -> dict[str, list[int]]:
        """name → every revision helm recorded (duplicates would show a second writer)."""
        found: dict[str, list[int]] = {}
        for secret in self.plane.api_list(f"/api/v1/namespaces/{namespace}/secrets", label_selector=HELM_OWNER):
            labels = secret["metadata"]["labels"]
            found.setdefault(labels["name"], []).append(int(labels["version"]))
        return {k: sorted(v) for k, v in found.items()}

    def config(self, namespace: str, release: str) -> dict[str, Any] | None:
        path = f"/api/v1/namespaces/{namespace}/configmaps/{release}-config"
        return self.plane.api_get(path) if self.plane.api_exists(path) else None


@dataclass
class Fleet:
    management: ControlPlane
    business: list[Business]
    root: Path  # the project (catalog and charts) the controller plans with
    helm: Path
    home: Path
    controllers: list[ControllerProcess] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {**os.environ, "HELM_CONFIG_HOME": str(self.home / "config"), "HELM_CACHE_HOME": str(self.home / "cache"),
                "HELM_DATA_HOME": str(self.home / "data"), "TKE_CATALOG_HELM": str(self.helm),
                "TKE_CATALOG_CACHE": str(self.home / "tke-catalog-cache"), "KUBECONFIG": "", "NO_COLOR": "1"}

    def start_controller(self, *args: str, name: str = "") -> ControllerProcess:
        process = ControllerProcess.start(self, name or f"controller-{len(self.controllers)}", args)
        self.controllers.append(process)
        return process

    # -- Cluster objects ---------------------------------------------------------------------------

    def create_cluster(self, name: str, business: Business, apps: list[dict[str, Any]], *,
                       annotations: dict[str, str] | None = None) -> dict[str, Any]:
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-kubeconfig", "namespace": NAMESPACE},
                  "data": {"value": base64.b64encode(business.kubeconfig_text().encode()).decode()}}
        self.management.api_create(f"/api/v1/namespaces/{NAMESPACE}/secrets", secret)
        return self.management.api_create(CLUSTERS, cluster_object(name, apps, annotations))

    def cluster(self, name: str) -> dict[str, Any] | None:
        """The Cluster object, or None once it is gone (it may go between any two requests)."""
        try:
            return self.management.api_get(f"{CLUSTERS}/{name}")
        except KubeApiError as exc:
            if exc.status == 404:
                return None
            raise

    def patch_cluster(self, name: str, patch: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.management._checked(
            "PATCH", f"{CLUSTERS}/{name}", data=json.dumps(patch),
            headers={"Content-Type": "application/merge-patch+json"})
        return result

    def delete_cluster(self, name: str) -> None:
        """DELETE the Cluster (background propagation: this control plane runs no garbage collector)."""
        answer = self.management._request("DELETE", f"{CLUSTERS}/{name}")
        assert answer.ok, answer.text

    def set_apps(self, name: str, apps: list[dict[str, Any]]) -> int:
        """Replace the Cluster's bootstrapApps; the new generation."""
        return int(self.patch_cluster(name, {"spec": {"bootstrapApps": apps}})["metadata"]["generation"])

    def wait_condition(self, name: str, kind: str, status: str = "True", *, generation: int | None = None,
                       reason: str | None = None, timeout: float = 90.0) -> dict[str, Any]:
        """The Cluster once its condition `kind` has `status` (for `generation`, with `reason`)."""
        def met() -> dict[str, Any] | None:
            obj = self.cluster(name)
            if obj is None:
                return None
            for condition in (obj.get("status") or {}).get("conditions") or []:
                if condition["type"] == kind and condition["status"] == status and (
                        generation is None or condition.get("observedGeneration") == generation) and (
                        reason is None or condition.get("reason") == reason):
                    return obj
            return None

        return until(met, timeout, lambda: f"{name}: no {kind}={status} (generation {generation}, reason {reason}); "
                     f"status: {json.dumps((self.cluster(name) or {}).get('status'))[:1500]}\n"
                     + "\n".join(c.process.tail(40) for c in self.controllers))

    def ready(self, name: str, generation: int | None = None, timeout: float = 90.0) -> dict[str, Any]:
        return self.wait_condition(name, "Ready", generation=generation, timeout=timeout)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.management.api_list("/api/v1/namespaces/default/events")
                if e["involvedObject"].get("name") == name]


def app(name: str, namespace: str, *set_values: str) -> dict[str, Any]:
    """A bootstrapApps entry for the fixture catalog's app `name` in `namespace`."""
    spec: dict[str, Any] = {"type": "HelmV3", "name": name, "targetNamespace": namespace,
                            "chart": {"chartGroupName": "public", "chartName": name}}
    if set_values:
        spec["values"] = {"values": list(set_values)}
    return {"app": {"metadata": {"name": name}, "spec": spec}}


def cluster_object(name: str, apps: list[dict[str, Any]], annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "platform.tkestack.io/v1", "kind": "Cluster", "metadata": meta,
            "spec": {"version": "1.30.2", "clusterCIDR": "10.244.0.0/16", "features": {"containerRuntime": "containerd"},
                     "bootstrapApps": apps}}


class ControllerProcess:
    """`tke-catalog controller` as its own process (ended by the tests, and by a TTL if they die)."""

    def __init__(self, process: ServerProcess, identity: str) -> None:
        self.process, self.identity = process, identity

    @classmethod
    def start(cls, fleet: Fleet, name: str, args: tuple[str, ...]) -> ControllerProcess:
        identity = f"{socket.gethostname()}/pid-0/{name}-{uuid.uuid4().hex[:6]}"
        argv = ["timeout", "--kill-after=10s", f"{SESSION_TTL_SECONDS}s", sys.executable, "-m", "toolkit", "controller",
                "--kubeconfig", str(fleet.management.kubeconfig), "--namespace", NAMESPACE, "--root", str(fleet.root),
                "--no-wait", "--timeout", "60s", "--resync", "6s", "--lease-duration", "6s", "--backoff-cap", "8s",
                "--metrics-address", "127.0.0.1:0", *args]
        process = ServerProcess(name, argv, fleet.home / f"{name}-{uuid.uuid4().hex[:4]}.log", env=fleet.env())
        controller = cls(process, identity)
        process.wait_until(lambda: controller.metrics_url() is not None, timeout=60)
        return controller

    def log(self) -> str:
        return self.process.log.read_text(errors="replace")

    def metrics_url(self) -> str | None:
        found = re.search(r"metrics and health on (http://\S+)/metrics", self.log())
        return found.group(1) if found else None

    def metric(self, name: str) -> float:
        """The sum of the samples of one metric on /metrics."""
        text = requests.get(f"{self.metrics_url()}/metrics", timeout=5).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(name) and not line.startswith("#"))

    def stop(self) -> None:
        self.process.stop(timeout=30)

    def kill(self) -> None:
        self.process.kill_hard()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    _require(missing_binaries(), "control-plane")
    helm = require_helm()
    base = tmp_path_factory.mktemp("fleet")
    planes = [ControlPlane(base / label, ttl=SESSION_TTL_SECONDS) for label in ("management", "business-0", "business-1")]
    relays: list[Relay] = []
    fleet_: Fleet | None = None
    try:
        for plane in planes:
            plane.up()
        for plane in planes[1:]:
            relay = Relay(plane.ports["kube-apiserver"])
            relay.up()
            relays.append(relay)
        root = base / "project"
        shutil.copytree(PROJECT, root)
        catalog = root / "catalog" / "catalog.yaml"
        # every app opt-in, so each Cluster's releases live in its own namespaces (many Clusters per server)
        catalog.write_text(catalog.read_text().replace(", default: true", ""))
        fleet_ = Fleet(planes[0], [Business(p, r) for p, r in zip(planes[1:], relays)], root, helm, base / "home")
        for folder in ("config", "cache", "data"):
            (fleet_.home / folder).mkdir(parents=True, exist_ok=True)
        # the controller's own chart installs the CRD (and its RBAC, Deployment, Service) like any release
        subprocess.run([str(helm), "install", "tke-catalog-controller", str(CHART), "--namespace", NAMESPACE,
                        "--create-namespace", "--kubeconfig", str(planes[0].kubeconfig)],
                       check=True, capture_output=True, env=fleet_.env(), timeout=120)
        eventually(lambda: planes[0].api_exists(CLUSTERS), timeout=30, what="the Cluster CRD served")
        yield fleet_
    finally:
        if fleet_ is not None:
            for controller in fleet_.controllers:
                controller.stop()
        for relay in relays:
            relay.down()
        for plane in reversed(planes):
            plane.down()


@pytest.fixture
def controller(fleet: Fleet) -> Iterator[ControllerProcess]:
    process = fleet.start_controller()
    yield process
    process.stop()
    fleet.controllers.remove(process)


def unique(prefix: str = "cls") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def until(condition: Callable[[], Any], timeout: float, describe: Callable[[], str]) -> Any:
    """`condition()`'s first truthy value; AssertionError with `describe()` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(describe())
        time.sleep(0.3)


"""A real Kubernetes API server for the tests and the demo, started the way envtest does it: etcd and
kube-apiserver on free loopback ports with a throw-away PKI, and an admin kubeconfig.

The realism tier adds kube-controller-manager, kube-scheduler, kwok and one fake Node, so Deployments
get Ready pods and `helm --wait` means something. Independent of `toolkit`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from tests.support.pki import CertificateAuthority, CertPair, rsa_key_pair
from tests.support.process import CACHE, ServerProcess, binary, free_port, port_open

# Same defaults and environment overrides as scripts/setup.sh.
KUBE_VERSION = "v" + os.environ.get("KUBE_VERSION", "1.36.3")
KWOK_VERSION = os.environ.get("KWOK_VERSION", "v0.8.0")
# kwok >= 0.6 has no built-in stages; setup.sh copies kwokctl's "fast" set from the kwok module here.
KWOK_STAGES = CACHE / "kwok" / f"stage-fast-{KWOK_VERSION}.yaml"
CONTEXT = "tke-catalog-test"
BASE_BINARIES = ("etcd", "kube-apiserver")
REALISM_BINARIES = ("kube-controller-manager", "kube-scheduler", "kwok")
SERVICE_CIDR = "10.96.0.0/16"  # kubeadm's default, and examples/cluster.yaml's serviceCIDR
POD_CIDR = "10.244.0.1/24"
FAKE_NODE = "kwok-node-0"
FAKE_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
# What the fake Node offers the scheduler; tests that want an unschedulable pod ask for more than this.
FAKE_NODE_ALLOCATABLE = {"cpu": "16", "memory": "64Gi", "pods": "110"}

# Controllers that need a cloud provider or are off by default anyway; everything else runs.
_NO_CLOUD_CONTROLLERS = ("cloud-node-lifecycle-controller", "service-lb-controller", "node-route-controller")


OLDEST_APISERVER = "kube-apiserver-1.29"
"""The oldest Kubernetes minor whose API server builds here (scripts/setup.sh kube-oldest)."""


def missing_binaries(*, realism: bool = False, apiserver: str = "kube-apiserver") -> list[str]:
    """Names of the binaries `ControlPlane(realism=...)` needs that neither the cache nor PATH has."""
    names = ("etcd", apiserver) + (REALISM_BINARIES if realism else ())
    missing = [name for name in names if binary(name) is None]
    if realism and not KWOK_STAGES.is_file():
        missing.append(f"kwok stages ({KWOK_STAGES})")
    return missing


class KubeApiError(RuntimeError):
    """The API server answered a request with an error status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{method} {path}: HTTP {status}: {body[:500]}")


def eventually(condition: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.2,
               what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy and return that; raise after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except (KubeApiError, requests.RequestException) as exc:
            last_error = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached after {timeout:.0f}s"
                               + (f" (last error: {last_error})" if last_error else ""))
        time.sleep(interval)


class ControlPlane:
    """etcd + kube-apiserver (+ controller-manager, scheduler, kwok with `realism=True`) in `folder`.

    `up()` starts them and waits for readiness; `down()` stops exactly those processes in reverse order.
    With `ttl` (seconds) every server runs under coreutils `timeout`, so a forgotten one ends itself.
    """

    def __init__(self, folder: Path, *, realism: bool = False, ttl: float | None = None,
                 startup_timeout: float = 60.0, keep_data: bool = False, apiserver: str = "kube-apiserver",
                 service_cidr: str = SERVICE_CIDR) -> None:
        self.folder = folder
        self.apiserver = apiserver  # the binary's name: kube-apiserver, or OLDEST_APISERVER
        self.service_cidr = service_cidr
        self.keep_data = keep_data  # reuse the etcd data an earlier run left in folder/etcd
        self.realism = realism
        self.ttl = ttl
        self.startup_timeout = startup_timeout
        self.processes: list[ServerProcess] = []
        self.ports: dict[str, int] = {}
        self.kubeconfig = folder / "kubeconfig"
        self.server = ""
        self.ca: Path = folder / "pki" / "ca.crt"
        self.admin: CertPair = CertPair(folder / "pki" / "admin.crt", folder / "pki" / "admin.key")
        self.startup_seconds: float | None = None
        self._session: requests.Session | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def up(self) -> ControlPlane:
        """Start everything and wait until the API server (and the fake Node, with realism) is ready."""
        missing = missing_binaries(realism=self.realism, apiserver=self.apiserver)
        if missing:
            raise FileNotFoundError(f"missing {', '.join(missing)}: run scripts/setup.sh control-plane")
        if self.ttl is not None and shutil.which("timeout") is None:
            raise FileNotFoundError("coreutils `timeout` is needed for a time-limited control plane")
        started = time.monotonic()
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self._write_pki()
            self._start_etcd()
            self._start_apiserver()
            self._write_kubeconfig()
            if self.realism:
                self._start_realism_tier()
        except BaseException:
            self.down()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def down(self) -> None:
        """Stop the processes this object started, newest first. Safe to call twice."""
        while self.processes:
            self.processes.pop().stop(timeout=15.0)
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> ControlPlane:
        return self.up()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.down()

    def _spawn(self, name: str, argv: list[str]) -> ServerProcess:
        if self.ttl is not None:
            # timeout forwards SIGTERM to the server and SIGKILLs it 10 s after the TTL if it lingers.
            argv = ["timeout", "--kill-after=10s", f"{int(self.ttl)}s", *argv]
        process = ServerProcess(name, argv, self.folder / "logs" / f"{name}.log")
        self.processes.append(process)
        return process

    # -- PKI and kubeconfig ----------------------------------------------------------------------

    def _write_pki(self) -> None:
        pki = self.folder / "pki"
        authority = CertificateAuthority(pki)
        self.ca = authority.cert
        self._serving = authority.serving("apiserver", ("127.0.0.1", "localhost"))
        self.admin = authority.client("admin", "admin", "system:masters")
        self._service_account = rsa_key_pair(pki, "service-account")
        (self.folder / "logs").mkdir(exist_ok=True)

    def _write_kubeconfig(self) -> None:
        def b64(path: Path) -> str:
            return base64.b64encode(path.read_bytes()).decode("ascii")

        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": CONTEXT, "cluster": {
                "server": self.server, "certificate-authority-data": b64(self.ca)}}],
            "users": [{"name": "admin", "user": {
                "client-certificate-data": b64(self.admin.cert), "client-key-data": b64(self.admin.key)}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "admin",
                                                      "namespace": "default"}}],
            "current-context": CONTEXT,
        }
        # JSON is YAML: client-go, helm and kwok read it, and we need no YAML library here.
        self.kubeconfig.write_text(json.dumps(config, indent=2) + "\n")
        self.kubeconfig.chmod(0o600)  # helm warns about group-readable kubeconfigs

    # -- etcd and kube-apiserver -----------------------------------------------------------------

    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        self.ports.update(etcd=client, etcd_peer=peer)
        client_url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
        data = self.folder / "etcd"
        if not self.keep_data:
            shutil.rmtree(data, ignore_errors=True)
        etcd = self._spawn("etcd", [
            str(binary("etcd")), "--name=default", f"--data-dir={data}",
            f"--listen-client-urls={client_url}", f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=default={peer_url}",
            "--unsafe-no-fsync=true", "--log-level=warn",
        ])

        def healthy() -> bool:
            with requests.Session() as session:
                session.trust_env = False
                answer = session.get(f"{client_url}/health", timeout=2)
                return answer.ok and answer.json().get("health") == "true"

        etcd.wait_until(_quiet(healthy), timeout=self.startup_timeout)

    def _start_apiserver(self) -> None:
        port = free_port()
        self.ports["kube-apiserver"] = port
        self.server = f"https://127.0.0.1:{port}"
        service_account = self._service_account
        apiserver = self._spawn("kube-apiserver", [
            str(binary(self.apiserver)),
            f"--etcd-servers=http://127.0.0.1:{self.ports['etcd']}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={port}",
            f"--tls-cert-file={self._serving.cert}", f"--tls-private-key-file={self._serving.key}",
            f"--client-ca-file={self.ca}",
            f"--service-account-issuer={self.server}",
            f"--service-account-key-file={service_account.cert}",
            f"--service-account-signing-key-file={service_account.key}",
            f"--service-cluster-ip-range={self.service_cidr}",
            "--allow-privileged=true", "--authorization-mode=RBAC",
            "--disable-admission-plugins=ServiceAccount",
            # No `kubernetes` Endpoints upkeep (loopback IPs are invalid there) and no APF bookkeeping.
            "--endpoint-reconciler-type=none", "--enable-priority-and-fairness=false",
        ])
        apiserver.wait_until(self.ready, timeout=self.startup_timeout, interval=0.25)

    # -- realism tier ----------------------------------------------------------------------------

    def _start_realism_tier(self) -> None:
        kubeconfig = str(self.kubeconfig)
        delegated = [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
                     f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1",
                     "--leader-elect=false"]
        self.ports["kube-controller-manager"] = free_port()
        controller_manager = self._spawn("kube-controller-manager", [
            str(binary("kube-controller-manager")), *delegated,
            f"--secure-port={self.ports['kube-controller-manager']}",
            "--controllers=*," + ",".join(f"-{name}" for name in _NO_CLOUD_CONTROLLERS),
            "--use-service-account-credentials=false",
            f"--service-account-private-key-file={self._service_account.key}",
            f"--root-ca-file={self.ca}",
        ])
        self.ports["kube-scheduler"] = free_port()
        scheduler = self._spawn("kube-scheduler", [
            str(binary("kube-scheduler")), *delegated, f"--secure-port={self.ports['kube-scheduler']}",
        ])
        self.ports["kwok"] = free_port()
        kwok = self._spawn("kwok", [
            # An explicit --config also keeps a user's ~/.kwok/kwok.yaml out of the tests.
            str(binary("kwok")), f"--kubeconfig={kubeconfig}", f"--config={KWOK_STAGES}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector={}={}".format(*FAKE_NODE_ANNOTATION),
            "--manage-nodes-with-label-selector=",
            f"--server-address=127.0.0.1:{self.ports['kwok']}",
            f"--cidr={POD_CIDR}", "--node-ip=127.0.0.1", "--node-lease-duration-seconds=40",
        ])
        tier = [controller_manager, scheduler, kwok]
        _wait_all(tier, lambda: all(port_open(self.ports[p.name]) for p in tier),
                  timeout=self.startup_timeout, what="controller-manager, scheduler and kwok ports")
        self.api_create("/api/v1/nodes", fake_node(FAKE_NODE))
        _wait_all(tier, lambda: self._node_schedulable(FAKE_NODE), timeout=self.startup_timeout,
                  what=f"Node {FAKE_NODE} Ready without taints")

    def _node_schedulable(self, name: str) -> bool:
        node = self.api_get(f"/api/v1/nodes/{name}")
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in node.get("status", {}).get("conditions", []))
        return ready and not node.get("spec", {}).get("taints")

    # -- API access ------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        if not self.server:
            raise RuntimeError("the control plane is not up")
        if self._session is None:
            self._session = requests.Session()
            self._session.trust_env = False  # no proxies or CA bundles from the environment
        return self._session.request(method, self.server + path, cert=(str(self.admin.cert), str(self.admin.key)),
                                     verify=str(self.ca), timeout=30, **kwargs)

    def _get(self, path: str) -> requests.Response:
        return self._request("GET", path)

    def _checked(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self._request(method, path, **kwargs)
        if not answer.ok:
            raise KubeApiError(method, path, answer.status_code, answer.text)
        return answer.json()

    def api_get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET `path` (e.g. `/api/v1/namespaces/default/configmaps/x`) as the admin; KubeApiError if not 2xx."""
        result: dict[str, Any] = self._checked("GET", path, params=params)
        return result

    def api_list(self, path: str, *, label_selector: str | None = None,
                 field_selector: str | None = None) -> list[dict[str, Any]]:
        """The `items` of a LIST on a collection path such as `/api/v1/namespaces/ns/secrets`."""
        params = {key: value for key, value in (("labelSelector", label_selector),
                                                ("fieldSelector", field_selector)) if value}
        items: list[dict[str, Any]] = self.api_get(path, params=params).get("items") or []
        return items

    def api_changes(self, path: str, since: str, *, label_selector: str | None = None,
                    wait: int = 1) -> list[dict[str, Any]]:
        """Every watch event (`{"type": ..., "object": ...}`) on the collection `path` after resourceVersion
        `since`, in the API server's order, replayed from its history; ends after `wait` quiet seconds."""
        params = {"watch": "1", "resourceVersion": since, "timeoutSeconds": str(wait), "allowWatchBookmarks": "false"}
        if label_selector:
            params["labelSelector"] = label_selector
        answer = self._request("GET", path, params=params, stream=True)
        if not answer.ok:
            raise KubeApiError("WATCH", path, answer.status_code, answer.text)
        return [json.loads(line) for line in answer.iter_lines() if line]

    def api_exists(self, path: str) -> bool:
        """True when GET `path` finds the object, False on 404."""
        try:
            self.api_get(path)
        except KubeApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def api_create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST `body` to the collection `path` and return the created object."""
        result: dict[str, Any] = self._checked("POST", path, json=dict(body))
        return result

    def api_delete(self, path: str) -> None:
        """DELETE `path` with foreground propagation; a missing object is fine."""
        answer = self._request("DELETE", path, json={"propagationPolicy": "Foreground"})
        if not answer.ok and answer.status_code != 404:
            raise KubeApiError("DELETE", path, answer.status_code, answer.text)

    def ready(self) -> bool:
        """True when `/readyz` answers 200 to the admin."""
        return _quiet(lambda: self._get("/readyz").status_code == 200)()

    def version(self) -> str:
        """The server's gitVersion, e.g. v1.36.3."""
        return str(self.api_get("/version")["gitVersion"])

    def pids(self) -> list[tuple[str, int]]:
        """(name, pid) of each running server, in start order."""
        return [(process.name, process.pid) for process in self.processes]


def fake_node(name: str, allocatable: Mapping[str, str] = FAKE_NODE_ALLOCATABLE,
              labels: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """A Node that kwok manages (its annotation) and keeps Ready; no NoSchedule taint."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {FAKE_NODE_ANNOTATION[0]: FAKE_NODE_ANNOTATION[1], "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", "type": "kwok", **dict(labels)},
        },
        "spec": {},
        "status": {"allocatable": dict(allocatable), "capacity": dict(allocatable),
                   "nodeInfo": {"kubeletVersion": "fake", "operatingSystem": "linux", "architecture": "amd64"}},
    }


def _wait_all(processes: list[ServerProcess], ready: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll `ready` while every process stays alive; fail with the log tails otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        for process in processes:
            if not process.alive():
                raise RuntimeError(f"{process.name} exited with {process.process.returncode}:\n{process.tail()}")
        try:
            if ready():
                return
        except (OSError, requests.RequestException, KubeApiError):
            pass
        if time.monotonic() >= deadline:
            tails = "\n".join(f"--- {p.name}\n{p.tail(15)}" for p in processes)
            raise RuntimeError(f"{what}: not after {timeout:.0f}s\n{tails}")
        time.sleep(0.25)


def _quiet(check: Callable[[], bool]) -> Callable[[], bool]:
    """`check`, with connection errors meaning "not yet" (ServerProcess.wait_until only forgives OSError)."""
    def wrapped() -> bool:
        try:
            return check()
        except requests.RequestException:
            return False
    return wrapped

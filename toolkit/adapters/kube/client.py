"""The Kubernetes API adapter: a small JSON client over requests for what helm does not do for us
(the per-Cluster inventory and the apply lock). Every failure becomes a ClusterError."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import requests

from toolkit.adapters.files import read_bytes, read_text
from toolkit.core.kubeconfig import KubeEndpoint, parse_kubeconfig
from toolkit.core.yamldoc import parse_yaml, to_plain
from toolkit.errors import ClusterError, ObjectConflict, translate

__all__ = ["KubeClient", "connect"]

_TIMEOUT = (5.0, 30.0)



class KubeClient:
    """JSON requests against one API server; `close()` removes the temporary key files."""

    def __init__(self, endpoint: KubeEndpoint) -> None:
        self.endpoint = endpoint
        self._folder = Path(tempfile.mkdtemp(prefix="tke-catalog-kube-"))
        os.chmod(self._folder, 0o700)
        self._session = requests.Session()
        self._session.headers["Accept"] = "application/json"
        self._session.headers["User-Agent"] = "tke-catalog"
        if endpoint.insecure:
            self._session.verify = False
        elif endpoint.ca_data:
            ca = self._folder / "ca.crt"
            ca.write_bytes(endpoint.ca_data)
            self._session.verify = str(ca)
        if endpoint.client_cert_data and endpoint.client_key_data:
            cert, key = self._folder / "client.crt", self._folder / "client.key"
            cert.write_bytes(endpoint.client_cert_data)
            key.write_bytes(endpoint.client_key_data)
            self._session.cert = (str(cert), str(key))
        token = endpoint.token or (read_text(endpoint.token_file).strip() if endpoint.token_file else None)
        if token is None and endpoint.exec_spec:
            token = _exec_token(endpoint.exec_spec)
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self._session.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: Any = None, *, ok_missing: bool = False) -> Any:
        """One API call; returns the decoded JSON (None for a 404 when `ok_missing`)."""
        url = self.endpoint.server + path
        server = self.endpoint.server
        with translate([
            (requests.exceptions.SSLError, lambda exc: ClusterError(
                f"TLS error talking to {server}: {exc}", hint="check the kubeconfig's certificate-authority")),
            (requests.RequestException, lambda exc: ClusterError(
                f"cannot reach the API server at {server} ({type(exc).__name__})",
                hint="check that the cluster is up and --kubeconfig/--context point at it")),
        ]):
            # verify is passed per request: a session-level value loses to REQUESTS_CA_BUNDLE in requests
            response = self._session.request(method, url, json=body, timeout=_TIMEOUT, verify=self._session.verify)
        if response.status_code == 404 and ok_missing:
            return None
        if response.status_code == 409:
            raise ObjectConflict(f"{method} {path}: conflict: {_reason(response)}")
        if response.status_code in (401, 403):
            raise ClusterError(f"{method} {path}: the API server refused our credentials ({response.status_code}: "
                               f"{_reason(response)})", hint="use a kubeconfig user allowed to manage kube-system")
        if response.status_code >= 400:
            raise ClusterError(f"{method} {path}: HTTP {response.status_code}: {_reason(response)}")
        return response.json() if response.content else None

    def get(self, path: str) -> Any:
        return self.request("GET", path, ok_missing=True)

    def version(self) -> str:
        """The server's gitVersion (also the reachability check)."""
        return str(self.request("GET", "/version")["gitVersion"])


def _reason(response: requests.Response) -> str:
    try:
        return str(response.json().get("message", response.reason))
    except ValueError:
        return response.reason or ""


def _exec_token(spec: Any) -> str | None:
    argv = [str(spec.get("command"))] + [str(a) for a in spec.get("args") or []]
    env = dict(os.environ)
    for item in spec.get("env") or []:
        env[str(item["name"])] = str(item["value"])
    try:
        out = subprocess.run(argv, capture_output=True, check=True, timeout=60, env=env)  # noqa: S603
    except (OSError, subprocess.SubprocessError) as exc:
        raise ClusterError(f"kubeconfig exec plugin {argv[0]!r} failed", hint="run it by hand to see why") from exc
    status = json.loads(out.stdout).get("status", {})
    token = status.get("token")
    return str(token) if token else None


def connect(kubeconfig: Path, context: str | None) -> KubeClient:
    """A client for the kubeconfig's context (the current one when `context` is None)."""
    config = to_plain(parse_yaml(read_text(kubeconfig), str(kubeconfig)))
    endpoint = parse_kubeconfig(config, str(kubeconfig), context=context, base=kubeconfig.parent, read=read_bytes)
    return KubeClient(endpoint)

"""The Kubernetes API adapter: JSON requests for what helm does not do for us (the per-Cluster
inventory and the apply Lease), over the official `kubernetes` client's configuration and connection
pool, so cluster access follows kubectl's conventions:

- `--kubeconfig FILE`, else `KUBECONFIG` (colon-separated files merged like kubectl: the first file
  to set a value wins), else `~/.kube/config`; `--context`, else the current context;
- else, inside a pod, the service account's token and CA (in-cluster config);
- exec plugins (client.authentication.k8s.io v1/v1beta1) re-run when their credential expires;
  `proxy-url`; client certificates and CAs as files or data; TLS verified unless the kubeconfig says
  `insecure-skip-tls-verify`.

Every failure becomes a ClusterError (an HTTP 409 an ObjectConflict) that says what to check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from toolkit.adapters.quiet_logs import quiet_root
from toolkit.errors import (
    ClusterError,
    InputError,
    ObjectConflict,
    UsageError,
    translate,
)

quiet_root()

__all__ = ["ClusterAccess", "KubeClient", "connect"]

_TIMEOUT = (5.0, 30.0)
_IN_CLUSTER = Path("/var/run/secrets/kubernetes.io/serviceaccount")

# the library logs exec-plugin failures at ERROR on its own; we report them ourselves
logging.getLogger("kubernetes").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach the cluster, as read once from the flags and the environment (`settings`)."""

    kubeconfig: str | None = None          # --kubeconfig: one file, as kubectl's and helm's flag
    context: str | None = None             # --context
    env_kubeconfig: str | None = None      # KUBECONFIG
    home: Path | None = None               # for ~/.kube/config
    service_host: str | None = None        # KUBERNETES_SERVICE_HOST (in a pod)
    service_port: str | None = None        # KUBERNETES_SERVICE_PORT
    service_account: Path = _IN_CLUSTER    # the mounted token and CA

    def kubeconfig_files(self) -> list[Path]:
        """The kubeconfig files in kubectl's order; empty when none applies (in-cluster, or nothing)."""
        chosen = self.kubeconfig or self.env_kubeconfig
        if chosen:
            return [Path(p).expanduser() for p in chosen.split(":") if p]
        default = (self.home or Path.home()) / ".kube" / "config"
        return [default] if default.is_file() else []

    def describe(self) -> str:
        """Where the configuration comes from, for messages."""
        files = self.kubeconfig_files()
        if files:
            return ":".join(map(str, files))
        return f"in-cluster service account ({self.service_account})" if self.service_host else "no kubeconfig"


def _configuration(access: ClusterAccess) -> tuple[Any, str]:
    """The library's Configuration for `access`, and the server URL."""
    from kubernetes import client as k8s
    from kubernetes.config.config_exception import ConfigException

    configuration = k8s.Configuration()
    files = access.kubeconfig_files()
    named = access.kubeconfig or access.env_kubeconfig
    if named:
        missing = [f for f in files if not f.is_file()]
        if len(missing) == len(files):
            where = "--kubeconfig" if access.kubeconfig else "KUBECONFIG"
            raise InputError(f"{where} {named}: no such file", hint="point it at your cluster's kubeconfig")
    try:
        if files:
            from kubernetes.config.kube_config import load_kube_config

            load_kube_config(config_file=":".join(str(f) for f in files if f.is_file()), context=access.context,
                             client_configuration=configuration, persist_config=False)
        elif access.service_host:
            from kubernetes.config.incluster_config import InClusterConfigLoader

            environ = {"KUBERNETES_SERVICE_HOST": access.service_host,
                       "KUBERNETES_SERVICE_PORT": access.service_port or "443"}
            InClusterConfigLoader(token_filename=str(access.service_account / "token"),
                                  cert_filename=str(access.service_account / "ca.crt"),
                                  environ=environ).load_and_set(configuration)
        else:
            raise UsageError("no cluster to talk to: no --kubeconfig, no KUBECONFIG, no ~/.kube/config, and not "
                             "running in a pod", hint="pass --kubeconfig FILE (or set KUBECONFIG)")
    except ConfigException as exc:
        raise InputError(f"kubeconfig {access.describe()}: {exc}",
                         hint="check the context name (--context) and the kubeconfig's clusters and users") from exc
    except (yaml.YAMLError, TypeError, AttributeError, KeyError, ValueError) as exc:
        raise InputError(f"kubeconfig {access.describe()} is not a readable kubeconfig ({type(exc).__name__})",
                         hint="check the file: a kubeconfig is a YAML mapping with clusters, users and contexts") from exc
    return configuration, str(configuration.host)


class KubeClient:
    """JSON requests against one API server; thread-safe (one pooled connection manager)."""

    def __init__(self, configuration: Any, server: str, source: str) -> None:
        from kubernetes import client as k8s

        self.server = server
        self.source = source
        self._api = k8s.ApiClient(configuration)

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: Any = None, *, ok_missing: bool = False,
                content_type: str = "application/json") -> Any:
        """One API call; returns the decoded JSON (None for a 404 when `ok_missing`). The credential is
        refreshed first when an exec plugin's token has expired."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        server = self.server
        try:
            with translate([((HTTPError, OSError), lambda exc: ClusterError(
                    f"cannot reach the API server at {server} ({type(exc).__name__})",
                    hint="check that the cluster is up and --kubeconfig/--context point at it"))]):
                _, url, headers, payload, _ = self._api.param_serialize(
                    method, path, header_params={"Accept": "application/json", "Content-Type": content_type},
                    body=body, auth_settings=["BearerToken"])
                response = self._api.call_api(method, url, header_params=headers, body=payload,
                                              _request_timeout=_TIMEOUT)
                data = response.read()
        except ApiException as exc:
            return self._failed(method, path, int(exc.status or 0), exc.body or exc.reason or "", ok_missing)
        if not 200 <= int(response.status) < 300:
            return self._failed(method, path, int(response.status), data or response.reason or "", ok_missing)
        return json.loads(data) if data else None

    def _failed(self, method: str, path: str, status: int, body: Any, ok_missing: bool) -> Any:
        reason = _reason(body)
        if status == 404 and ok_missing:
            return None
        if status == 409:
            raise ObjectConflict(f"{method} {path}: conflict: {reason}", status=status)
        if status in (401, 403):
            raise ClusterError(f"{method} {path}: the API server refused our credentials ({status}: {reason})",
                               hint="use a kubeconfig user allowed to manage kube-system", status=status)
        if status == 0 and reason.startswith("SSLError"):
            raise ClusterError(f"TLS error talking to {self.server}: {reason.splitlines()[-1]}",
                               hint="check the kubeconfig's certificate-authority")
        if status == 0:
            raise ClusterError(f"cannot reach the API server at {self.server}: {reason}",
                               hint="check that the cluster is up and --kubeconfig/--context point at it")
        raise ClusterError(f"{method} {path}: HTTP {status}: {reason}", status=status)

    def get(self, path: str) -> Any:
        return self.request("GET", path, ok_missing=True)

    def watch(self, path: str, resource_version: str, *, timeout: int = 60) -> Iterator[dict[str, Any]]:
        """The watch events (`{"type", "object"}`) of the collection `path` after `resource_version`,
        streamed as the API server sends them, until it ends the watch (after about `timeout` s) or an
        error: an expired version comes back as an ERROR event (410), a lost connection as ClusterError."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        query = f"watch=1&allowWatchBookmarks=true&timeoutSeconds={timeout}&resourceVersion={resource_version}"
        server = self.server
        with translate([((HTTPError, OSError), lambda exc: ClusterError(
                f"the watch of {path} on {server} broke ({type(exc).__name__})",
                hint="check that the cluster is up; the watch is started again"))]):
            try:
                _, url, headers, _, _ = self._api.param_serialize(
                    "GET", f"{path}?{query}", header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"])
                response = self._api.call_api("GET", url, header_params=headers,
                                              _request_timeout=(_TIMEOUT[0], timeout + 30))
            except ApiException as exc:
                self._failed("GET", path, int(exc.status or 0), exc.body or exc.reason or "", False)
                return
            if not 200 <= int(response.status) < 300:
                self._failed("GET", path, int(response.status), response.read() or response.reason or "", False)
                return
            stream = response.response
            pending = b""
            try:
                for chunk in stream.stream(65536, decode_content=True):
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        if line.strip():
                            yield json.loads(line)
            finally:
                stream.release_conn()

    def version(self) -> str:
        """The server's gitVersion (also the reachability check)."""
        return str(self.request("GET", "/version")["gitVersion"])


def _reason(body: Any) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()
    return str(data.get("message", text)) if isinstance(data, Mapping) else text


def connect(access: ClusterAccess) -> KubeClient:
    """A client for the cluster `access` names (the kubeconfig's context, or the pod's service account)."""
    configuration, server = _configuration(access)
    return KubeClient(configuration, server, access.describe())




"""Read a kubeconfig into the one endpoint we talk to (pure: data in, data out).

Supports what helm's own kubeconfigs carry in practice: server, CA (file or data), client certificate
and key (file or data), bearer token (or token file), `insecure-skip-tls-verify`, and exec plugins
(run by the shell adapter, not here).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import UsageError

__all__ = ["KubeEndpoint", "parse_kubeconfig"]


@dataclass(frozen=True)
class KubeEndpoint:
    """Where the API server is and how to authenticate to it. `repr` never shows secrets."""

    server: str
    context: str
    ca_data: bytes | None = field(default=None, repr=False)
    client_cert_data: bytes | None = field(default=None, repr=False)
    client_key_data: bytes | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    token_file: Path | None = None
    insecure: bool = False
    exec_spec: Mapping[str, Any] | None = field(default=None, repr=False)


def _named(items: Any, name: str, kind: str, source: str) -> Mapping[str, Any]:
    for item in items or []:
        if isinstance(item, Mapping) and item.get("name") == name:
            body = item.get(kind)
            if isinstance(body, Mapping):
                return body
    raise UsageError(f"{source}: no {kind} named {name!r}", hint=f"check the kubeconfig's `{kind}s` list")


def _data(entry: Mapping[str, Any], key: str, base: Path, read: Any) -> bytes | None:
    inline = entry.get(f"{key}-data")
    if inline:
        try:
            return base64.b64decode(str(inline), validate=True)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"kubeconfig: `{key}-data` is not valid base64", hint="re-export the kubeconfig") from exc
    path = entry.get(key)
    if path:
        file = Path(str(path))
        data: bytes = read(file if file.is_absolute() else base / file)
        return data
    return None


def parse_kubeconfig(config: Any, source: str, *, context: str | None, base: Path,
                     read: Any) -> KubeEndpoint:
    """The endpoint of `context` (or the current one). `read(path) -> bytes` loads referenced files."""
    if not isinstance(config, Mapping):
        raise UsageError(f"{source}: not a kubeconfig", hint="pass the file written by your cluster installer")
    name = context or config.get("current-context")
    if not name:
        raise UsageError(f"{source}: no current-context and no --context given", hint="pass --context NAME")
    ctx = _named(config.get("contexts"), str(name), "context", source)
    cluster = _named(config.get("clusters"), str(ctx.get("cluster")), "cluster", source)
    user: Mapping[str, Any] = {}
    if ctx.get("user"):
        user = _named(config.get("users"), str(ctx.get("user")), "user", source)
    server = str(cluster.get("server") or "")
    if not server.startswith(("https://", "http://")):
        raise UsageError(f"{source}: cluster of context {name!r} has no usable server URL",
                         hint="set clusters[].cluster.server to https://HOST:PORT")
    token_file = user.get("tokenFile")
    return KubeEndpoint(
        server=server.rstrip("/"),
        context=str(name),
        ca_data=_data(cluster, "certificate-authority", base, read),
        client_cert_data=_data(user, "client-certificate", base, read),
        client_key_data=_data(user, "client-key", base, read),
        token=str(user["token"]) if user.get("token") else None,
        token_file=Path(str(token_file)) if token_file else None,
        insecure=bool(cluster.get("insecure-skip-tls-verify", False)),
        exec_spec=user.get("exec") if isinstance(user.get("exec"), Mapping) else None,
    )

"""A registry that misbehaves on purpose: a small OCI distribution server of our own on 127.0.0.1
serving one chart, with a fault switched on per test (redirects to another host, bytes that do not
match their digest, oversized or malformed manifests, hostile archives, a server that trickles). It
records every request's headers, so a test can see where credentials went."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import tarfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.archive import build_chart_archive
from toolkit.core.oci_artifact import chart_artifact

USER, PASSWORD = "fuzz-user", "s3cret-never-printed"
CHART_YAML = b"apiVersion: v2\nname: c\nversion: 0.1.0\n"


def tar_archive(entries: list[tuple[str, str, bytes]]) -> bytes:
    """A gzipped tar of exactly `entries` (name, kind, body): kind file, symlink or hardlink (body: the
    link's target), dir, device or fifo."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, kind, body in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
                continue
            info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "dir": tarfile.DIRTYPE,
                         "device": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[kind]
            info.linkname = body.decode(errors="replace") if "link" in kind else ""
            tar.addfile(info)
    return out.getvalue()


def chart_archive(entries: list[tuple[str, str, bytes]] | None = None) -> bytes:
    """Our chart `c` as a real archive, or an archive of exactly `entries`."""
    if entries is None:
        return build_chart_archive("c", {"Chart.yaml": CHART_YAML, "values.yaml": b"a: 1\n",
                                         "templates/cm.yaml": b"kind: ConfigMap\n"})
    return tar_archive(entries)


@dataclass
class HostileRegistry:
    """`fault` picks the misbehaviour: "" (none), "redirect", "wrong-digest", "huge-manifest",
    "malformed-manifest", "trickle", and for publishing "upload-elsewhere" (the upload location is
    `other`, another host) or "rewrite-manifest" (the stored digest is not the one sent); `archive` replaces the chart layer (a hostile archive)."""

    fault: str = ""
    archive: bytes = field(default_factory=chart_archive)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    other: HostileRegistry | None = None  # where "redirect" sends blobs
    port: int = 0

    def artifact(self) -> Any:
        return chart_artifact(self.archive, CHART_YAML, created_epoch=1_700_000_000)

    def start(self) -> HostileRegistry:
        registry = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:  # noqa: N802
                self.do_GET(head=True)

            def do_GET(self, head: bool = False) -> None:  # noqa: N802
                registry.requests.append((self.command, self.path, dict(self.headers)))
                registry.answer(self, head)

            def do_POST(self) -> None:  # noqa: N802
                self.do_PUT()

            def do_PUT(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                registry.requests.append((self.command, self.path, dict(self.headers)))
                registry.receive(self, body)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def authorized(self, handler: http.server.BaseHTTPRequestHandler) -> bool:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return handler.headers.get("Authorization") == expected

    def send(self, handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes = b"", head: bool = False,
             headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if head or not body:
            return
        if self.fault == "trickle":
            for byte in body[:20]:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(1)
            return
        handler.wfile.write(body)

    def receive(self, handler: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        """Uploads and manifest PUTs, as a registry that accepts everything (and misbehaves per fault)."""
        path = handler.path
        if path.startswith("/elsewhere/"):  # the other host taking an upload, credentials or not
            self.send(handler, 201, b"")
            return
        if not self.authorized(handler):
            self.send(handler, 401, b"{}", headers={"WWW-Authenticate": 'Basic realm="hostile"'})
            return
        if handler.command == "POST" and path.rstrip("/").endswith("/blobs/uploads"):
            location = (f"http://{self.other.host}/elsewhere/upload" if self.fault == "upload-elsewhere" and self.other
                        else "/v2/charts/c/blobs/uploads/session")
            self.send(handler, 202, b"", headers={"Location": location})
        elif "/blobs/uploads/" in path:
            self.send(handler, 201, b"")
        elif "/manifests/" in path:
            digest = "sha256:" + hashlib.sha256(body + (b" " if self.fault == "rewrite-manifest" else b"")).hexdigest()
            self.send(handler, 201, b"", headers={"Docker-Content-Digest": digest})
        else:
            self.send(handler, 404, b"{}")

    def answer(self, handler: http.server.BaseHTTPRequestHandler, head: bool) -> None:
        path = handler.path
        if path.startswith("/storage/"):  # the "other host": serves blobs without asking for credentials
            self.send(handler, 200, self.artifact().layer, head)
            return
        if not self.authorized(handler):
            self.send(handler, 401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', head,
                      {"WWW-Authenticate": 'Basic realm="hostile"', "Content-Type": "application/json"})
            return
        artifact = self.artifact()
        if path == "/v2/":
            self.send(handler, 200, b"{}", head, {"Content-Type": "application/json"})
        elif "/tags/list" in path:
            self.send(handler, 200, json.dumps({"name": "charts/c", "tags": ["0.1.0"]}).encode(), head,
                      {"Content-Type": "application/json"})
        elif "/manifests/" in path and self.fault in ("upload-elsewhere", "rewrite-manifest"):
            self.send(handler, 404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', head)
        elif "/blobs/" in path and self.fault in ("upload-elsewhere", "rewrite-manifest"):
            self.send(handler, 404, b"", head)
        elif "/manifests/" in path:
            body = artifact.manifest
            if self.fault == "huge-manifest":
                body = b'{"schemaVersion": 2, "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
            elif self.fault == "malformed-manifest":
                body = b'{"schemaVersion": 2, "config": {"digest": '
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            self.send(handler, 200, body, head, {"Content-Type": "application/vnd.oci.image.manifest.v1+json",
                                                 "Docker-Content-Digest": digest})
        elif "/blobs/" in path:
            digest = path.rsplit("/", 1)[1]
            if digest == artifact.config_descriptor.digest:
                self.send(handler, 200, artifact.config, head)
            elif self.fault == "redirect" and self.other is not None:
                self.send(handler, 307, b"", head, {"Location": f"http://{self.other.host}/storage/{digest}"})
            elif self.fault == "wrong-digest":
                self.send(handler, 200, chart_archive([("c/Chart.yaml", "file", b"name: evil\n")]), head)
            else:
                self.send(handler, 200, artifact.layer, head)
        else:
            self.send(handler, 404, b"{}", head)

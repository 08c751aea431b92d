"""The HTTP layer under the registry client: one request in, one answer (or a TransportFailure) out.

`Transport` is the narrow protocol tests implement to count requests or inject faults; `Urllib3Transport`
is the real one, a pooled urllib3 client (what requests, and so oras, run on) that verifies TLS unless
told otherwise and never retries or follows redirects itself: the client decides both.

A server that trickles (a byte now and then never trips a per-read timeout) is cut off by a deadline
on the whole answer, and a body beyond `max_body` (or announcing more) is refused while it streams,
before it fills memory.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import urllib3
import urllib3.exceptions

from toolkit.adapters.quiet_logs import quiet_root
from toolkit.errors import TransportFailure, translate

quiet_root()

__all__ = ["HttpResponse", "Transport", "TransportFailure", "Urllib3Transport"]


_FAILURES = (
    (urllib3.exceptions.SSLError, lambda exc: TransportFailure(f"TLS handshake failed: {exc}", tls=True)),
    (urllib3.exceptions.NameResolutionError, lambda exc: TransportFailure(f"unknown host: {exc}", permanent=True)),
    ((urllib3.exceptions.HTTPError, OSError), lambda exc: TransportFailure(f"{type(exc).__name__}: {exc}")),
)
"""urllib3's failures, first match wins (a TLS error is an HTTPError too)."""


@dataclass(frozen=True)
class HttpResponse:
    """One HTTP answer; header names are lower-case."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""


class Transport(Protocol):
    """Sends one HTTP request and returns the answer, or raises TransportFailure."""

    def request(self, method: str, url: str, *, headers: Mapping[str, str],
                body: bytes | None = None) -> HttpResponse: ...


class Urllib3Transport:
    """The real transport: a pooled urllib3 client, TLS verified unless told otherwise."""

    def __init__(self, *, ca_file: Path | None = None, insecure_skip_tls_verify: bool = False,
                 timeout: float = 60.0, pool_size: int = 8, total_timeout: float = 900.0,
                 max_body: int = 2 * 1024 * 1024 * 1024 + 1) -> None:
        if insecure_skip_tls_verify:
            self._pool = urllib3.PoolManager(cert_reqs="CERT_NONE", maxsize=pool_size)
        else:
            self._pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", maxsize=pool_size,
                                             ca_certs=str(ca_file) if ca_file else None)
        self._timeout = urllib3.Timeout(connect=min(timeout, 10.0), read=timeout)
        self._insecure = insecure_skip_tls_verify
        self._total, self._max_body = total_timeout, max_body

    def request(self, method: str, url: str, *, headers: Mapping[str, str],
                body: bytes | None = None) -> HttpResponse:
        with translate(_FAILURES):
            if self._insecure:
                import warnings  # an explicit opt-in: urllib3's per-request warning is noise
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                    response = self._send(method, url, headers, body)
            else:
                response = self._send(method, url, headers, body)
            try:
                data = self._read(response, url)
            finally:
                response.release_conn()
        return HttpResponse(response.status, {k.lower(): v for k, v in response.headers.items()}, data)

    def _send(self, method: str, url: str, headers: Mapping[str, str],
              body: bytes | None) -> urllib3.BaseHTTPResponse:
        return self._pool.request(method, url, headers=dict(headers), body=body, retries=False,
                                  redirect=False, timeout=self._timeout, preload_content=False)

    def _read(self, response: urllib3.BaseHTTPResponse, url: str) -> bytes:
        """The body, within the deadline and the size limit (a trickle or a flood is a TransportFailure)."""
        announced = response.headers.get("content-length")
        if announced and announced.isdigit() and int(announced) > self._max_body:
            response.drain_conn()
            raise TransportFailure(f"{url}: the answer announces {announced} bytes, more than the limit of "
                                   f"{self._max_body}", permanent=True)
        deadline = time.monotonic() + self._total
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read1(1024 * 1024):
            size += len(chunk)
            if size > self._max_body:
                raise TransportFailure(f"{url}: the answer is larger than the limit of {self._max_body} bytes",
                                       permanent=True)
            if time.monotonic() > deadline:
                raise TransportFailure(f"{url}: the answer took longer than {self._total:.0f} s "
                                       "(the server sends too slowly)", permanent=True)
            chunks.append(chunk)
        return b"".join(chunks)

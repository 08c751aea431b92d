"""The controller's `/metrics` (Prometheus text format, through `prometheus_client`) and `/healthz`,
served on one address (127.0.0.1 unless told otherwise) by a small threaded HTTP server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["ControllerMetrics", "serve"]


class ControllerMetrics:
    """Reconciles, their durations and failures, the queue depth and the Clusters this replica owns."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter("tke_catalog_reconciles", "Reconciles of Cluster objects, by result",
                                  ["result"], registry=self.registry)
        self.failures = Counter("tke_catalog_reconcile_failures", "Failed reconciles, by reason", ["reason"],
                                registry=self.registry)
        self.duration = Histogram("tke_catalog_reconcile_duration_seconds", "How long one reconcile took",
                                  buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), registry=self.registry)
        self.queue = Gauge("tke_catalog_queue_depth", "Clusters due for a reconcile and not started",
                           registry=self.registry)
        self.owned = Gauge("tke_catalog_clusters_owned", "Clusters this replica owns", registry=self.registry)
        self.in_flight = Gauge("tke_catalog_reconciles_in_flight", "Reconciles running now", registry=self.registry)

    def text(self) -> bytes:
        return bytes(generate_latest(self.registry))


def serve(address: str, metrics: ControllerMetrics, healthy: Callable[[], bool]) -> http.server.ThreadingHTTPServer:
    """Start serving `/metrics` and `/healthz` on `address` (`host:port`; port 0 picks one) in a thread."""
    host, _, port = address.rpartition(":")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            if self.path.split("?", 1)[0] == "/metrics":
                body, status, kind = metrics.text(), 200, CONTENT_TYPE_LATEST
            elif self.path.split("?", 1)[0] in ("/healthz", "/readyz"):
                ok = healthy()
                body, status, kind = (b"ok\n" if ok else b"not watching\n"), (200 if ok else 503), "text/plain"
            else:
                body, status, kind = b"not found\n", 404, "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's signature)
            return

    server = http.server.ThreadingHTTPServer((host or "127.0.0.1", int(port or 0)), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server

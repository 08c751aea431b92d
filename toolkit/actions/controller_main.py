"""Wire one controller replica to the real world: the management cluster's Cluster objects, Events and
Leases, the business clusters through `open_session`, and the metrics endpoint."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toolkit.actions.controller import Controller, ControllerOptions
from toolkit.actions.reconcile import ReconcileSettings
from toolkit.adapters.kube.client import ClusterAccess
from toolkit.adapters.kube.cluster_objects import Resource

__all__ = ["ControllerConfig", "run_controller"]


@dataclass(frozen=True)
class ControllerConfig:
    """Everything `tke-catalog controller` was told."""

    management: ClusterAccess
    namespace: str
    resource: Resource
    settings: ReconcileSettings
    options: ControllerOptions
    identity: str
    metrics_address: str | None = "127.0.0.1:8080"
    events_namespace: str = "default"


def run_controller(config: ControllerConfig, stop: threading.Event, log: Callable[[str], None],
                   ready: Callable[[str], None] = lambda _address: None) -> None:
    """Run one replica until `stop` is set. `ready` gets the metrics address once it is served."""
    from toolkit.actions.session import open_session
    from toolkit.adapters.kube.client import connect
    from toolkit.adapters.kube.cluster_objects import (
        ClusterObjects,
        Events,
        ManagementReads,
    )
    from toolkit.adapters.kube.ownership import Ownership
    from toolkit.adapters.metrics import ControllerMetrics, serve

    kube = connect(config.management)
    try:
        log(f"controller {config.identity}: watching {config.resource.plural}.{config.resource.api_version} on "
            f"{kube.server} ({kube.version()}); credentials from namespace {config.namespace}")
        metrics = ControllerMetrics()
        controller = Controller(
            store=ClusterObjects(kube, config.resource),
            events=Events(kube, config.resource, namespace=config.events_namespace),
            owners=Ownership(kube, config.namespace, config.identity, duration=config.options.lease_duration),
            management=ManagementReads(kube, config.namespace), settings=config.settings, options=config.options,
            open_session=open_session, metrics=metrics, log=log)
        server = None
        if config.metrics_address:
            server = serve(config.metrics_address, metrics, lambda: controller.watching)
            host, port = str(server.server_address[0]), int(server.server_address[1])
            ready(f"{host}:{port}")
            log(f"metrics and health on http://{host}:{port}/metrics and /healthz")
        try:
            controller.run(stop)
        finally:
            if server is not None:
                server.shutdown()
    finally:
        kube.close()


def default_workdir(cache: Path, identity: str) -> Path:
    """Where a replica writes the Cluster files and (private, short-lived) kubeconfigs it works with."""
    slug = "".join(c if c.isalnum() or c in "-." else "-" for c in identity)
    return cache / "controller" / slug

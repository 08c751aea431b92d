"""`tke-catalog controller`: the long-running reconciler of every Cluster object's apps."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.cli._common import Duration, helm_option, root_option, settings_from
from toolkit.cli._registry import registry_options

if TYPE_CHECKING:
    from toolkit.actions.registry_access import RegistryAccess


def _log(line: str) -> None:
    click.echo(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {line}", err=True)


@click.command("controller", epilog="Example: tke-catalog controller --kubeconfig ~/.kube/management "
                                    "--namespace tke-catalog-system --registry oci://127.0.0.1:5000/tke --no-wait")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Kubeconfig of the management cluster [default: KUBECONFIG, else ~/.kube/config, else in-cluster].")
@click.option("--context", default=None, help="Kubeconfig context (default: the current one).")
@click.option("--namespace", "-n", default="tke-catalog-system", show_default=True,
              help="Namespace of the business clusters' <cluster>-kubeconfig Secrets and the replicas' Leases.")
@click.option("--resource", default="clusters.platform.tkestack.io/v1", show_default=True,
              metavar="PLURAL.GROUP/VERSION", help="The Cluster objects to watch (TKEStack's own API, or our CRD).")
@click.option("--workers", "-j", "--jobs", "workers", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Clusters reconciled at once by this replica (a reconcile mostly waits on helm and the API servers).")
@click.option("--apply-jobs", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Releases worked on at once within one Cluster (apply's --jobs).")
@click.option("--resync", type=Duration(seconds=True), default="5m", show_default=True,
              help="How often every Cluster is checked again for changes made behind our back.")
@click.option("--lease-duration", type=Duration(seconds=True), default="15s", show_default=True,
              help="How long a dead replica's Clusters stay its own before another takes them.")
@click.option("--backoff-cap", type=Duration(seconds=True), default="5m", show_default=True,
              help="The longest wait between retries of a failing Cluster (2s, 4s, 8s, ... up to this).")
@click.option("--stalled-after", type=click.IntRange(1, 100), default=5, show_default=True,
              help="Failed reconciles in a row after which a Cluster is marked Stalled (it is still retried).")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for each release to become ready.")
@click.option("--timeout", type=Duration(), default="300s", show_default=True, help="Per-release helm timeout.")
@click.option("--registry", default=None, metavar="oci://HOST[:PORT]/PATH",
              help="Install the catalog's charts from this registry, by the digests in catalog.lock.")
@click.option("--lock", "lock_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Lock file with the published digests [default: ROOT/catalog.lock].")
@click.option("--metrics-address", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="Where /metrics and /healthz are served (port 0 picks one; empty: not served).")
@click.option("--identity", default=None, help="This replica's name in Leases [default: host/pid/random].")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Scratch folder for the Cluster files and short-lived kubeconfigs [default: in the cache].")
@registry_options
@helm_option
@root_option
def controller_command(kubeconfig: Path | None, context: str | None, namespace: str, resource: str, workers: int,
                       apply_jobs: int, resync: float, lease_duration: float, backoff_cap: float, stalled_after: int,
                       wait: bool, timeout: str, registry: str | None, lock_file: Path | None, metrics_address: str,
                       identity: str | None, workdir: Path | None, access: RegistryAccess, helm: str | None,
                       root: Path | None) -> None:
    """Watch Cluster objects and keep each business cluster's apps as its Cluster declares them.

    Runs until SIGTERM or Ctrl-C: reconciles in flight finish, then this replica's Clusters are handed
    to the others at once."""
    from toolkit.actions.controller import ControllerOptions
    from toolkit.actions.controller_main import (
        ControllerConfig,
        default_workdir,
        run_controller,
    )
    from toolkit.actions.reconcile import ReconcileSettings
    from toolkit.adapters.kube.cluster_objects import Resource
    from toolkit.adapters.kube.lock import new_identity
    from toolkit.adapters.settings import load_cluster_access

    settings = settings_from(root, helm)
    me = identity or new_identity()
    charts = access.chart_source(settings.root, settings.cache, registry=registry, lock_file=lock_file)
    reconcile = ReconcileSettings(root=settings.root, cache=settings.cache,
                                  workdir=workdir or default_workdir(settings.cache, me), helm=settings.helm,
                                  helm_source=settings.helm_source, charts=charts,
                                  management=load_cluster_access(kubeconfig, context), concurrency=apply_jobs,
                                  wait=wait, timeout=timeout, stalled_after=stalled_after)
    options = ControllerOptions(workers=workers, resync=resync, lease_duration=max(3, int(lease_duration)),
                                backoff_cap=backoff_cap)
    config = ControllerConfig(management=reconcile.management, namespace=namespace, resource=Resource.parse(resource),
                              settings=reconcile, options=options, identity=me, metrics_address=metrics_address or None)
    stop = threading.Event()

    def stop_on_signal(number: int, _frame: object) -> None:
        _log(f"{signal.Signals(number).name}: finishing the reconciles in flight, then handing over")
        stop.set()

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    if registry is None:
        _log(f"charts from the working tree at {settings.root} (pass --registry to install what was published)")
    run_controller(config, stop, _log)
    sys.stderr.flush()


COMMANDS = [controller_command]

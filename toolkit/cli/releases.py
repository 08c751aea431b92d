"""`tke-catalog status | history | rollback | uninstall`: thin verbs over what a Cluster installed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from toolkit.cli._common import (
    Duration,
    InputPath,
    echo_json,
    helm_option,
    output_option,
    root_option,
    settings_from,
)
from toolkit.cli._progress import Progress
from toolkit.errors import ApplyCancelled, UsageError

F = TypeVar("F", bound=Callable[..., Any])

_CLUSTER = click.argument("cluster_file", metavar="CLUSTER.yaml", type=InputPath(dir_okay=False))


def _cluster_options(func: F) -> F:
    for option in reversed([
        click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Kubeconfig of the cluster [default: KUBECONFIG, else ~/.kube/config, else in-cluster]."),
        click.option("--context", default=None, help="Kubeconfig context (default: the current one)."),
        helm_option, root_option, output_option("text", "json")]):
        func = option(func)
    return func


def _session(kubeconfig: Path | None, context: str | None, helm: str | None, root: Path | None) -> Any:
    from toolkit.actions.session import open_session
    from toolkit.adapters.settings import load_cluster_access

    settings = settings_from(root, helm)
    return settings, open_session(load_cluster_access(kubeconfig, context), settings.helm, settings.helm_source)


@click.command("status", epilog="Example: tke-catalog status cluster.yaml --kubeconfig ~/.kube/cls-demo")
@_CLUSTER
@_cluster_options
def status_command(cluster_file: Path, kubeconfig: Path | None, context: str | None, helm: str | None,
                   root: Path | None, output: str) -> None:
    """List what the Cluster installed (its inventory), with helm's newest revision and status of each."""
    from toolkit.actions.release_ops import cluster_name, release_status

    settings, session = _session(kubeconfig, context, helm, root)
    with session:
        name = cluster_name(cluster_file, settings.root)
        rows = release_status(session, name)
    if output == "json":
        echo_json({"cluster": name, "releases": [r.as_dict() for r in rows]})
        return
    click.echo(f"{'RELEASE':<28} {'NAMESPACE':<16} {'CHART':<22} {'VERSION':<10} {'REV':<4} {'STATUS':<10} UPDATED")
    for r in rows:
        click.echo(f"{r.name:<28} {r.namespace:<16} {r.chart:<22} {r.version:<10} {r.revision or '-'!s:<4} "
                   f"{r.status:<10} {r.updated}".rstrip())
    click.echo(f"{len(rows)} release(s) installed for Cluster {name}" if rows else f"Cluster {name} has nothing installed")


@click.command("history", epilog="Example: tke-catalog history cluster.yaml coredns")
@_CLUSTER
@click.argument("release", metavar="RELEASE")
@_cluster_options
def history_command(cluster_file: Path, release: str, kubeconfig: Path | None, context: str | None,
                    helm: str | None, root: Path | None, output: str) -> None:
    """Every revision helm keeps of one of the Cluster's releases (RELEASE or NAMESPACE/RELEASE)."""
    from toolkit.actions.release_ops import cluster_name, release_history

    settings, session = _session(kubeconfig, context, helm, root)
    with session:
        revisions = release_history(session, cluster_name(cluster_file, settings.root), release)
    if output == "json":
        echo_json({"release": release, "revisions": [
            {"revision": r.revision, "status": r.status, "chart": r.chart, "version": r.version,
             "updated": r.last_deployed, "description": r.description} for r in revisions]})
        return
    click.echo(f"{'REV':<4} {'STATUS':<12} {'CHART':<30} UPDATED                     DESCRIPTION")
    for r in revisions:
        click.echo(f"{r.revision:<4} {r.status:<12} {r.chart + '-' + r.version:<30} {r.last_deployed:<27} "
                   f"{r.description}".rstrip())


@click.command("rollback", epilog="Example: tke-catalog rollback cluster.yaml coredns 3 --yes")
@_CLUSTER
@click.argument("release", metavar="RELEASE")
@click.argument("revision", type=click.IntRange(min=1), required=False)
@click.option("--timeout", type=Duration(), default="300s", show_default=True, help="helm's timeout (e.g. 90s, 5m).")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the release to become ready.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask first (required when not on a terminal).")
@_cluster_options
def rollback_command(cluster_file: Path, release: str, revision: int | None, timeout: str, wait: bool, yes: bool,
                     kubeconfig: Path | None, context: str | None, helm: str | None, root: Path | None,
                     output: str) -> None:
    """Roll one of the Cluster's releases back to REVISION (default: the previous one). The Cluster file
    still asks for what it asked for: the next apply upgrades again unless you change it."""
    from toolkit.actions.release_ops import cluster_name, rollback_release

    _confirm(yes, f"Roll {release} back to revision {revision or 'the previous one'}?")
    settings, session = _session(kubeconfig, context, helm, root)
    progress = Progress(live=False, err=True)
    with session:
        record = rollback_release(session, cluster_name(cluster_file, settings.root), release, revision,
                                  timeout=timeout, wait=wait, progress=progress)
    if output == "json":
        echo_json({"release": release, "revision": record.revision if record else None,
                   "status": record.status if record else None})
    else:
        click.echo(f"{release}: rolled back; the Cluster file is unchanged, so the next apply upgrades it again "
                   "unless you edit the app there")


@click.command("uninstall", epilog="Example: tke-catalog uninstall cluster.yaml --yes --allow-critical-removal")
@_CLUSTER
@click.option("--allow-critical-removal", is_flag=True, help="Also uninstall critical apps (the CNI, DNS).")
@click.option("--timeout", type=Duration(), default="300s", show_default=True, help="helm's timeout (e.g. 90s, 5m).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask first (required when not on a terminal).")
@_cluster_options
def uninstall_command(cluster_file: Path, allow_critical_removal: bool, timeout: str, yes: bool,
                      kubeconfig: Path | None, context: str | None, helm: str | None, root: Path | None,
                      output: str) -> None:
    """Uninstall everything the Cluster installed (its inventory), addons first, the network last."""
    from toolkit.actions.release_ops import cluster_name, uninstall_all

    settings, session = _session(kubeconfig, context, helm, root)
    with session:
        name = cluster_name(cluster_file, settings.root)
        _confirm(yes, f"Uninstall every release Cluster {name} installed?")
        done = uninstall_all(session, name, settings.root, allow_critical_removal=allow_critical_removal,
                             timeout=timeout, progress=Progress(live=False, err=True))
    if output == "json":
        echo_json({"cluster": name, "releases": [{"release": key, "outcome": what} for key, what in done]})
    else:
        click.echo(f"{len(done)} release(s) uninstalled for Cluster {name}")


def _confirm(yes: bool, question: str) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to act without --yes: standard input is not a terminal", hint="pass --yes")
    if not click.confirm(question, default=False, err=True):
        raise ApplyCancelled("cancelled; nothing was changed")


COMMANDS = [status_command, history_command, rollback_command, uninstall_command]

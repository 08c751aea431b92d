"""`tke-catalog apply`: install the release plan into a cluster, in dependency order, atomically per release."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.adapters.settings import default_kubeconfig
from toolkit.cli._common import (
    Duration,
    InputPath,
    echo_json,
    helm_option,
    output_option,
    release_names,
    root_option,
    settings_from,
)
from toolkit.cli._progress import Progress
from toolkit.cli._registry import registry_options
from toolkit.cli._style import painted_lines
from toolkit.errors import UsageError

if TYPE_CHECKING:
    from toolkit.actions.registry_access import RegistryAccess


@click.command("apply", epilog="Example: tke-catalog apply cluster.yaml --kubeconfig ~/.kube/cls-demo --registry oci://127.0.0.1:5000/tke --plain-http --yes")
@click.argument("source", metavar="CLUSTER.yaml|PLAN.json", type=InputPath(dir_okay=False))
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Kubeconfig of the target cluster [default: KUBECONFIG, else ~/.kube/config, else in-cluster].")
@click.option("--context", default=None, help="Kubeconfig context (default: the current one).")
@click.option("--jobs", "-j", "--concurrency", "concurrency", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Releases worked on at once (as --jobs on lint and publish).")
@click.option("--prune", is_flag=True, help="Uninstall releases this toolkit installed that are no longer wanted.")
@click.option("--allow-critical-removal", is_flag=True, help="Allow uninstalling critical apps (the CNI, DNS).")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for each release to become ready.")
@click.option("--timeout", type=Duration(), default="300s", show_default=True,
              help="Per-release helm timeout (e.g. 90s, 5m).")
@click.option("--lock-timeout", type=Duration(seconds=True), default="0s", show_default=True,
              help="How long to wait for another apply on this Cluster to finish (e.g. 30s, 5m).")
@click.option("--dry-run", is_flag=True,
              help="Change nothing: show the plan against the cluster (the same as `tke-catalog plan --kubeconfig`).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before acting (required when not on a terminal).")
@click.option("--take-over", "take_over", multiple=True, metavar="RELEASE",
              help="Take over this same-name release tke-catalog did not install, or adopt (and replace) the "
                   "objects others applied for it (repeatable, or comma-separated; the app's takeOver: true in "
                   "the Cluster says the same).")
@click.option("--check-objects/--no-check-objects", default=True, show_default=True,
              help="Look for objects of our releases deleted outside tke-catalog, and repair them.")
@click.option("--rebuild-inventory", is_flag=True,
              help="Replace an unreadable inventory with one rebuilt from the ownership marks on helm's records.")
@click.option("--registry", default=None, metavar="oci://HOST[:PORT]/PATH",
              help="Install the catalog's charts from this registry, by the digests in catalog.lock.")
@click.option("--lock", "lock_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Lock file with the published digests [default: ROOT/catalog.lock].")
@registry_options
@helm_option
@root_option
@output_option("text", "json")
def apply_command(source: Path, kubeconfig: Path | None, context: str | None, concurrency: int, prune: bool,
                  allow_critical_removal: bool, wait: bool, timeout: str, lock_timeout: float, dry_run: bool, yes: bool,
                  take_over: tuple[str, ...], check_objects: bool, rebuild_inventory: bool,
                  registry: str | None, lock_file: Path | None, access: RegistryAccess, helm: str | None,
                  root: Path | None, output: str) -> None:
    """Install, upgrade and (with --prune) uninstall releases until the cluster matches the Cluster file."""
    from toolkit.actions.apply import ApplyOptions, run_apply
    from toolkit.actions.session import open_session
    from toolkit.adapters.settings import load_cluster_access
    from toolkit.core.model import ReleasePlan
    from toolkit.core.plan_render import render_table

    if dry_run:
        from toolkit.cli.plan import show_plan

        if source.suffix == ".json":
            raise UsageError("apply --dry-run takes a Cluster file: a saved plan already is the dry run",
                             hint="`tke-catalog plan CLUSTER.yaml --kubeconfig K` shows it again against the cluster")

        click.echo("apply --dry-run is `tke-catalog plan` against the cluster: nothing is changed", err=True)
        show_plan(source, root=root, state_file=None, output="table" if output == "text" else output, out_file=None,
                  detailed_exitcode=False, allow_critical_removal=allow_critical_removal,
                  kubeconfig=kubeconfig or default_kubeconfig(), kube_context=context, registry=registry,
                  lock_file=lock_file, access=access, helm=helm)
        return
    settings = settings_from(root, helm)
    if not yes and not sys.stdin.isatty():
        raise UsageError("refusing to apply without --yes: standard input is not a terminal",
                         hint="review `tke-catalog plan` first, then pass --yes")

    def confirm(plan: ReleasePlan) -> bool:
        click.echo(painted_lines(render_table(plan), err=output == "json"), err=output == "json")
        return yes or click.confirm("Apply these changes?", default=False, err=True)

    charts = access.chart_source(settings.root, settings.cache, registry=registry, lock_file=lock_file)
    progress = Progress(live=settings.is_terminal and output == "text", err=output == "json")
    if registry is None:  # say where the charts come from: not what was published, unless asked
        progress(f"charts from the working tree at {settings.root} (pass --registry to install what was published)")
    options = ApplyOptions(concurrency=concurrency, prune=prune, wait=wait, timeout=timeout,
                           lock_timeout=lock_timeout, take_over=release_names(take_over), check_objects=check_objects,
                           rebuild_inventory=rebuild_inventory)
    with open_session(load_cluster_access(kubeconfig, context), settings.helm, settings.helm_source) as session:
        result = run_apply(source, session=session, root=settings.root, cache=settings.cache, options=options,
                           allow_critical_removal=allow_critical_removal, confirm=confirm, progress=progress,
                           charts=charts)
    progress.finish()
    if output == "json":
        echo_json(result.as_dict())
    else:
        not_started = [r for r in result.releases if result.stopped and r.because == result.stopped]
        for release in result.releases:
            if release in not_started:
                continue
            detail = release.error or (f"because {release.because} failed" if release.because else "")
            click.echo(painted_lines(
                f"{release.outcome.value:<12} {release.namespace + '/' + release.name:<40} {detail}".rstrip()))
        if not_started:
            click.echo(f"{'not started':<12} {', '.join(r.name for r in not_started)}")
        summary = result.as_dict()["summary"]
        click.echo(", ".join(f"{count} {name}" for name, count in summary.items() if count) or "nothing to do")
    problem = result.problem()
    if problem is not None:
        raise problem


COMMANDS = [apply_command]

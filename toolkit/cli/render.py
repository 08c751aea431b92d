"""`tke-catalog template` (the manifests a Cluster's releases render to) and `tke-catalog diff` (what
an apply would change: values old → new per path, and with --manifests the rendered objects against
what helm recorded as installed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.adapters.settings import default_kubeconfig
from toolkit.cli._common import (
    InputPath,
    echo_json,
    helm_option,
    output_option,
    root_option,
    settings_from,
)
from toolkit.cli._registry import registry_options
from toolkit.errors import ChangesPending, UsageError

if TYPE_CHECKING:
    from toolkit.actions.plan import PlanOutcome
    from toolkit.actions.registry_access import RegistryAccess
    from toolkit.actions.session import ClusterSession

_CLUSTER = click.argument("cluster_file", metavar="CLUSTER.yaml", type=InputPath(dir_okay=False))


@click.command("template", epilog="Example: tke-catalog template cluster.yaml --release coredns > coredns.yaml")
@_CLUSTER
@click.option("--release", "releases", multiple=True, metavar="NAME", help="Only this release (repeatable).")
@root_option
@helm_option
@registry_options
def template_command(cluster_file: Path, releases: tuple[str, ...], root: Path | None, helm: str | None,
                     access: RegistryAccess) -> None:
    """Print the manifests the Cluster's releases render to (helm template, with each release's merged
    values and the Cluster's Kubernetes version), as one YAML stream."""
    from toolkit.actions.plan import run_plan
    from toolkit.actions.release_ops import cluster_version
    from toolkit.actions.render import rendered_releases
    from toolkit.adapters.helm import Helm
    from toolkit.core.yamldoc import dump_plain

    settings = settings_from(root, helm)
    outcome = run_plan(cluster_file, catalog_root=settings.root, charts=access.chart_source(settings.root, settings.cache))
    rendered = rendered_releases(outcome.plan, Helm(settings.helm, source=settings.helm_source), settings.root,
                                 settings.cache, kube_version=cluster_version(cluster_file, settings.root),
                                 only=releases)
    for release, objects in rendered:
        for obj in objects:
            click.echo(f"---\n# Source: {release.namespace}/{release.name} ({release.chart} {release.version})")
            click.echo(dump_plain(obj))


@click.command("diff", epilog="Example: tke-catalog diff cluster.yaml --kubeconfig ~/.kube/cls-demo --manifests")
@_CLUSTER
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Kubeconfig of the cluster to compare with [default: KUBECONFIG, else ~/.kube/config].")
@click.option("--context", "kube_context", default=None, help="Kubeconfig context (default: the current one).")
@click.option("--manifests", is_flag=True, help="Also diff the rendered objects against what helm installed.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when nothing changes, 2 when changes are pending.")
@output_option("text", "json")
@root_option
@helm_option
@registry_options
def diff_command(cluster_file: Path, kubeconfig: Path | None, kube_context: str | None, manifests: bool,
                 detailed_exitcode: bool, output: str, root: Path | None, helm: str | None,
                 access: RegistryAccess) -> None:
    """What an apply would change on the cluster: each release's values old → new (secrets redacted),
    and with --manifests a unified diff of its objects against what helm recorded as installed."""
    from toolkit.actions.release_ops import cluster_version
    from toolkit.actions.render import manifest_diffs, rendered_releases
    from toolkit.cli.plan import show_plan
    from toolkit.core.plan_render import render_diff

    kubeconfig = kubeconfig or default_kubeconfig()
    if kubeconfig is None and kube_context is None:
        raise UsageError("diff compares with a cluster: name one", hint="pass --kubeconfig (or set KUBECONFIG)")
    settings = settings_from(root, helm)
    shown: list[tuple[PlanOutcome, dict[str, str]]] = []

    def view(outcome: PlanOutcome, session: ClusterSession | None) -> None:
        diffs: dict[str, str] = {}
        if manifests and session is not None and session.records is not None:
            changing = [r.name for r in outcome.plan.releases if r.action.value in ("install", "upgrade")]
            rendered = rendered_releases(outcome.plan, session.helm, settings.root, settings.cache,
                                         kube_version=cluster_version(cluster_file, settings.root),
                                         only=changing) if changing else []
            diffs = manifest_diffs(rendered, session.records)
        shown.append((outcome, diffs))

    show_plan(cluster_file, root=root, state_file=None, output="table", out_file=None, detailed_exitcode=False,
              allow_critical_removal=True, kubeconfig=kubeconfig, kube_context=kube_context, registry=None,
              lock_file=None, access=access, helm=helm, view=view)
    outcome, diffs = shown[0]
    if output == "json":
        from toolkit.core.plan_render import plan_as_dict

        document = plan_as_dict(outcome.plan)
        document["manifestDiffs"] = diffs
        echo_json(document)
    else:
        click.echo(render_diff(outcome.plan, diffs))
    if detailed_exitcode and outcome.plan.has_changes:
        raise ChangesPending()


COMMANDS = [template_command, diff_command]

"""`tke-catalog plan` and `tke-catalog validate`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.cli._common import (
    echo_json,
    helm_option,
    output_option,
    render_findings,
    root_option,
    settings_from,
)
from toolkit.cli._registry import registry_options
from toolkit.errors import ChangesPending, UsageError, ValidationFailed

if TYPE_CHECKING:
    from toolkit.actions.plan import PlanOutcome
    from toolkit.actions.registry_access import RegistryAccess
    from toolkit.actions.session import ClusterSession

_CLUSTER = click.argument("cluster_file", metavar="CLUSTER.yaml", type=click.Path(path_type=Path, dir_okay=False))


@click.command("plan", epilog="Example: tke-catalog plan cluster.yaml --kubeconfig ~/.kube/cls-demo --detailed-exitcode\n\n"
                              "A fleet: tke-catalog plan clusters/ -o json -j 2 > plans.jsonl")
@click.argument("cluster_files", metavar="CLUSTER.yaml|DIR...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@root_option
@click.option("--state", "state_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Installed state (the inventory apply stores) to diff against.")
@output_option("text", "json", "yaml", "table")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), help="Also write the JSON plan here.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when nothing changes, 2 when changes are pending.")
@click.option("--allow-critical-removal", is_flag=True, help="Allow the plan to uninstall critical apps (the CNI).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the installed state from this cluster (helm's releases and our inventory); --context alone "
                   "uses KUBECONFIG or ~/.kube/config.")
@click.option("--context", "kube_context", help="kubeconfig context.")
@click.option("--registry", default=None, metavar="oci://HOST[:PORT]/PATH",
              help="Plan the catalog's charts as published there (by the digests in catalog.lock), as apply would.")
@click.option("--lock", "lock_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Lock file with the published digests [default: ROOT/catalog.lock].")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Many Clusters: write each plan to OUT/<cluster>.plan.json instead of stdout.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Many Clusters: processes planning at once [default: one per core].")
@registry_options
@helm_option
def plan_command(cluster_files: tuple[Path, ...], root: Path | None, state_file: Path | None, output: str,
                 out_file: Path | None, detailed_exitcode: bool, allow_critical_removal: bool,
                 kubeconfig: Path | None, kube_context: str | None, registry: str | None, lock_file: Path | None,
                 out_dir: Path | None, jobs: int | None, access: RegistryAccess, helm: str | None) -> None:
    """Resolve a Cluster's app list into a release plan (install, upgrade, uninstall, no-op) in waves.

    Given several Cluster files or a folder of them, plans them all against the catalog (no installed
    state), over every core, streaming: `-o json` prints one document per Cluster per line, `--out-dir`
    writes one file per Cluster, text prints one line per Cluster. Exit 3 if any Cluster was refused.
    """
    if len(cluster_files) > 1 or cluster_files[0].is_dir() or out_dir is not None:
        for flag, given in (("--state", state_file), ("--kubeconfig", kubeconfig), ("--context", kube_context),
                            ("--out", out_file), ("--allow-critical-removal", allow_critical_removal or None)):
            if given is not None:
                raise UsageError(f"{flag} plans one Cluster against its cluster; not with many Clusters",
                                 hint="plan that Cluster on its own")
        if output not in ("text", "json"):
            raise UsageError(f"-o {output} is for one Cluster; many Clusters print text or json (one per line)",
                             hint="use -o json, or --out-dir DIR")
        _plan_many(cluster_files, root=root, output=output, out_dir=out_dir, jobs=jobs, registry=registry,
                   lock_file=lock_file, access=access, detailed_exitcode=detailed_exitcode)
        return
    (cluster_file,) = cluster_files
    show_plan(cluster_file, root=root, state_file=state_file, output="table" if output == "text" else output, out_file=out_file,
              detailed_exitcode=detailed_exitcode, allow_critical_removal=allow_critical_removal,
              kubeconfig=kubeconfig, kube_context=kube_context, registry=registry, lock_file=lock_file,
              access=access, helm=helm)


def _plan_many(paths: tuple[Path, ...], *, root: Path | None, output: str, out_dir: Path | None, jobs: int | None,
               registry: str | None, lock_file: Path | None, access: RegistryAccess, detailed_exitcode: bool) -> None:
    """The fleet form of `plan` (`toolkit.actions.fleet_plan`)."""
    import sys

    from toolkit.actions.fleet_plan import plan_fleet

    settings = settings_from(root)
    ctx = click.get_current_context()
    ctx.meta["tke-catalog.printed"] = True  # the lines are the output, under -o json too
    out = sys.stdout

    def emit(line: str) -> None:
        out.write(line + "\n")

    summary = plan_fleet(paths, root=settings.root, jobs=jobs, output=output, out_dir=out_dir, emit=emit,
                         charts=access.chart_source(settings.root, settings.cache, registry=registry,
                                                    lock_file=lock_file))
    out.flush()
    if output == "text":
        click.echo(f"{summary.clusters} Cluster(s): {summary.clusters - summary.refused} planned ({summary.releases} release(s), {summary.changes} "
                   f"change(s)), {summary.refused} refused")
    if summary.refused:
        raise ValidationFailed(f"{summary.refused} of {summary.clusters} Clusters cannot be planned",
                               hint="see each refused Cluster's findings")
    if detailed_exitcode and summary.changes:
        raise ChangesPending()


def show_plan(cluster_file: Path, *, root: Path | None, state_file: Path | None, output: str, out_file: Path | None,
              detailed_exitcode: bool, allow_critical_removal: bool, kubeconfig: Path | None,
              kube_context: str | None, registry: str | None, lock_file: Path | None, access: RegistryAccess,
              helm: str | None, view: Callable[[PlanOutcome, ClusterSession | None], None] | None = None) -> None:
    """What `plan` prints (and `apply --dry-run`): the plan, against the cluster when one is named.
    `view` (for `diff`) prints instead, while the cluster session is still open."""
    from toolkit.actions.plan import render_plan, run_plan, write_plan
    from toolkit.core.cluster import Cluster
    from toolkit.core.findings import Finding
    from toolkit.core.live_facts import live_findings
    from toolkit.core.model import InstalledState, ReleasePlan
    from toolkit.core.plan_render import plan_as_dict
    from toolkit.errors import PlanRejected

    live = kubeconfig is not None or kube_context is not None
    if live and state_file is not None:
        raise UsageError("--state and --kubeconfig/--context both give the installed state",
                         hint="pass only one of them")
    settings = settings_from(root, helm)
    state_from = None
    unowned_from = None
    live_from = None
    sessions: list[ClusterSession] = []

    def close_sessions() -> None:
        while sessions:
            sessions.pop().close()
    # Without a cluster no helm runs and `values[]` is read as helm 3 does (the stricter one); with one,
    # as the helm that reads the cluster does.
    helm_majors: list[int] = []
    if live:
        from toolkit.actions.apply import unowned_objects
        from toolkit.actions.session import open_session, read_installed_state
        from toolkit.adapters.settings import load_cluster_access

        def state_from(name: str, namespaces: set[str]) -> InstalledState:
            session = open_session(load_cluster_access(kubeconfig, kube_context), settings.helm, settings.helm_source)
            sessions.append(session)
            helm_majors.append(session.helm_major)
            return read_installed_state(session, name, namespaces)

        def unowned_from(plan: ReleasePlan) -> dict[str, tuple[str, ...]]:
            return unowned_objects(sessions[-1], plan, settings.root, settings.cache) if sessions else {}

        def live_from(cluster: Cluster, plan: ReleasePlan) -> list[Finding]:
            if not sessions:
                return []
            return live_findings(cluster, plan, sessions[-1].nodes(), sessions[-1].server_version)

    try:
        outcome = run_plan(cluster_file, catalog_root=settings.root, state_path=state_file, state_from=state_from,
                           charts=access.chart_source(settings.root, settings.cache, registry=registry, lock_file=lock_file),
                           allow_critical_removal=allow_critical_removal,
                           helm_major=lambda: helm_majors[-1] if helm_majors else 3, unowned_from=unowned_from,
                           live_from=live_from)
        if view is not None:
            view(outcome, sessions[-1] if sessions else None)
    except PlanRejected as exc:
        if output == "table":
            render_findings(exc.findings)
        errors = sum(1 for f in exc.findings if f.severity.value == "error")
        # under -o json the findings go into the one document the error handler prints
        raise ValidationFailed(f"{cluster_file}: cannot plan ({errors} error(s))", findings=exc.findings,
                               hint="fix the errors above" if output == "table" else "fix the errors in findings") from None
    finally:
        close_sessions()
    if view is None and output == "table":
        from toolkit.cli._style import painted_lines

        render_findings(outcome.findings)
        click.echo(painted_lines(render_plan(outcome.plan, output)))
    elif view is None and output == "json":  # findings go inside the document: nothing else on stdout
        echo_json(plan_as_dict(outcome.plan, findings=outcome.findings))
    elif view is None:
        click.echo(render_plan(outcome.plan, output, outcome.findings))
    if out_file is not None:
        write_plan(outcome, out_file, cluster_file)
    if detailed_exitcode and outcome.plan.has_changes:
        raise ChangesPending()


@click.command("validate", epilog="Example: tke-catalog validate cluster.yaml")
@_CLUSTER
@root_option
@output_option("text", "json")
@registry_options
def validate_command(cluster_file: Path, root: Path | None, output: str, access: RegistryAccess) -> None:
    """Check a Cluster file: schema, catalog apps, dependencies and every release's values."""
    from toolkit.actions.validate import run_validate
    from toolkit.core.findings import format_findings, has_errors

    settings = settings_from(root)
    findings = run_validate(cluster_file, settings.root, access.chart_source(settings.root, settings.cache))
    if output == "json":
        echo_json({"ok": not has_errors(findings), "file": str(cluster_file), "valid": not has_errors(findings),
                   "findings": [f.as_dict() for f in findings]})
    elif findings:
        click.echo(format_findings(findings))
    else:
        click.echo(f"{cluster_file}: valid")
    if has_errors(findings):
        raise ValidationFailed(f"{cluster_file}: {sum(1 for f in findings if f.severity.value == 'error')} error(s)",
                               hint="fix the errors above")


COMMANDS = [plan_command, validate_command]

"""`tke-catalog publish`: push the charts to an OCI registry (idempotent; `--dry-run` checks versions)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.cli._common import (
    ChartArgument,
    echo_json,
    output_option,
    root_option,
    settings_from,
)
from toolkit.cli._registry import registry_options
from toolkit.errors import PublishFailed, VersionConflict

if TYPE_CHECKING:
    from toolkit.actions.publish import ChartPublish
    from toolkit.actions.registry_access import RegistryAccess

__all__ = ["COMMANDS"]


def _line(chart: ChartPublish, dry_run: bool) -> str:
    from toolkit.actions.publish import PublishAction

    action = chart.action.value
    if dry_run and chart.action is PublishAction.PUSHED:
        action = "would push"
    note = f"  ({chart.note})" if chart.note and chart.note != "would push" else ""
    return f"{chart.name:<24} {chart.version:<10} {action:<10} {chart.digest}{note}"


@click.command("publish", epilog="Example: tke-catalog publish --registry oci://127.0.0.1:5000/tke --plain-http")
@click.argument("charts", nargs=-1, type=ChartArgument(), metavar="[CHART|APP]...")
@click.option("--registry", required=True, metavar="oci://HOST[:PORT]/PATH", help="Where to push the charts.")
@click.option("--jobs", "-j", type=click.IntRange(1, 32), default=4, show_default=True, help="Charts pushed in parallel.")
@registry_options
@click.option("--force", is_flag=True, help="Overwrite versions already published with other content.")
@click.option("--dry-run", is_flag=True, help="Only report what would be pushed, skipped or conflicting.")
@click.option("--lock", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Lock file to update [default: ROOT/catalog.lock].")
@root_option
@output_option("text", "json")
def publish_command(charts: tuple[str, ...], registry: str, jobs: int, access: RegistryAccess, force: bool,
                    dry_run: bool, lock: Path | None,
                    root: Path | None, output: str) -> None:
    """Push the charts (default: every chart under charts/) to an OCI registry, skipping unchanged ones.

    A version already published with other content fails (bump `version`), unless --force.
    `--dry-run` writes nothing: use it in CI to check that changed charts got a version bump.
    """
    from toolkit.actions.publish import (
        LOCK_FILE,
        PublishAction,
        pending_charts,
        publish,
        read_lock,
        write_lock,
    )
    from toolkit.adapters.project import chart_folders, find_chart_dirs

    settings = settings_from(root)
    folders = chart_folders(charts, settings.root) or find_chart_dirs(settings.charts_dir)  # input first
    target, client = access.connect(registry, jobs=jobs)
    lock_path = lock or settings.root / LOCK_FILE
    built = pending_charts(folders, epoch=settings.source_date_epoch, created_epoch=settings.source_date_epoch,
                           lock=read_lock(lock_path), registry=target, cache=settings.cache / "archives")
    live = settings.is_terminal and output == "text"
    done: list[ChartPublish] = []

    def progress(chart: ChartPublish) -> None:
        done.append(chart)
        if live:
            click.echo(f"\r\033[K[{len(done)}/{len(built)}] {chart.name} {chart.action.value}", nl=False, err=True)
        elif output == "text":  # CI logs see each chart as it ends; the table below comes in chart order
            click.echo(f"[{len(done)}/{len(built)}] {chart.name} {chart.version} {chart.action.value}", err=True)

    result = publish(built, registry=client, target=target, created_epoch=settings.source_date_epoch,
                     force=force, dry_run=dry_run, jobs=jobs, progress=progress)
    if live:
        click.echo("\r\033[K", nl=False, err=True)
    if not dry_run and write_lock(lock_path, result, replace_other=lock is not None) is None:
        click.echo(f"note: {lock_path} records another registry; this publish to {target} is not recorded there "
                   "(pass --lock FILE to keep a lock for it)", err=True)
    if output == "json":
        echo_json(result.as_dict())
    else:
        for chart in sorted(result.charts, key=lambda c: (c.name, c.version)):
            click.echo(_line(chart, dry_run))
        counts = {action: sum(1 for c in result.charts if c.action is action) for action in PublishAction}
        click.echo(", ".join(f"{n} {'would push' if dry_run and a is PublishAction.PUSHED else a.value}"
                             for a, n in counts.items() if n) or "no charts")
        for chart in result.failed:
            click.echo(f"{chart.name}: {chart.error}", err=True)
    if result.failed and all(isinstance(c.error, VersionConflict) for c in result.failed):
        raise VersionConflict(f"{len(result.failed)} of {len(result.charts)} charts would overwrite a published "
                              "version with other content", hint="bump their versions, or pass --force")
    if result.failed:
        raise PublishFailed(f"{len(result.failed)} of {len(result.charts)} charts failed to publish",
                            hint="see the messages above")


COMMANDS = [publish_command]

"""`tke-catalog deps update|build [CHART...]`: fetch charts' dependencies into their charts/ with helm's Chart.lock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.cli._common import (
    InputPath,
    echo_json,
    output_option,
    root_option,
    settings_from,
)
from toolkit.cli._registry import registry_options

if TYPE_CHECKING:
    from toolkit.actions.dependencies import DepsResult
    from toolkit.actions.registry_access import RegistryAccess

__all__ = ["COMMANDS"]

_CHART = InputPath(file_okay=False)


def _render(results: list[DepsResult], output: str) -> None:
    if output == "json":
        echo_json({"charts": [r.as_dict() for r in results]})
        return
    for result in results:
        _render_one(result, len(results) > 1)


def _render_one(result: DepsResult, heading: bool) -> None:
    if heading:
        click.echo(f"{result.chart}:")
    for dep in result.dependencies:
        where = f"charts/{dep.archive}" if dep.archive else f"charts/{dep.name}/ (already there)"
        change = "" if dep.previous in ("", dep.version) else f" (was {dep.previous})"
        click.echo(f"{dep.name} {dep.version}{change} ({dep.repository or 'charts/'}) -> {where}")
    for name in result.removed:
        click.echo(f"removed charts/{name} (no longer a dependency)")
    if result.dependencies:
        click.echo(f"{result.lock_file}: {'written' if result.lock_written else 'unchanged'}")
    else:
        click.echo(f"{result.chart}: no dependencies")


def _run(verb: str, charts: tuple[Path, ...], root: Path | None, access: RegistryAccess, output: str) -> None:
    from toolkit.actions.dependencies import (
        build_dependencies,
        charts_with_dependencies,
        folder_archiver,
        update_dependencies,
    )
    from toolkit.actions.dependency_fetch import NetworkFetcher

    action: Callable[..., DepsResult] = update_dependencies if verb == "update" else build_dependencies
    settings = settings_from(root)
    folders = list(charts) or charts_with_dependencies(settings.charts_dir)
    fetcher = NetworkFetcher(access)
    results = [action(folder, fetcher, build_folder=folder_archiver(settings.source_date_epoch),
                      epoch=settings.source_date_epoch) for folder in folders]
    _render(results, output)


@click.group("deps", epilog="Example: tke-catalog deps update charts/platform/coredns")
def deps_group() -> None:
    """Fetch a chart's dependencies (file://, oci://, https://) into its charts/, as helm dependency does."""


@deps_group.command("update", epilog="Example: tke-catalog deps update charts/platform/coredns")
@click.argument("charts", nargs=-1, type=_CHART, metavar="[CHART...]")
@root_option
@registry_options
@output_option("text", "json")
def update_command(charts: tuple[Path, ...], root: Path | None, access: RegistryAccess, output: str) -> None:
    """Resolve every version range to the highest match, fetch into charts/ and write Chart.lock (each
    CHART, or every catalog chart with dependencies); shows what changed."""
    _run("update", charts, root, access, output)


@deps_group.command("build", epilog="Example: tke-catalog deps build charts/platform/coredns")
@click.argument("charts", nargs=-1, type=_CHART, metavar="[CHART...]")
@root_option
@registry_options
@output_option("text", "json")
def build_command(charts: tuple[Path, ...], root: Path | None, access: RegistryAccess, output: str) -> None:
    """Fetch exactly what Chart.lock pins into charts/ (refused when Chart.yaml changed since), for each
    CHART or every catalog chart with dependencies (run it after a fresh checkout)."""
    _run("build", charts, root, access, output)


COMMANDS = [deps_group]

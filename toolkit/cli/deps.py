"""`tke-catalog deps update|build CHART`: fetch a chart's dependencies into its charts/ with helm's Chart.lock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from toolkit.actions.dependencies import (
    DepsResult,
    build_dependencies,
    update_dependencies,
)
from toolkit.actions.dependency_fetch import NetworkFetcher
from toolkit.cli._common import echo_json, output_option, settings_from
from toolkit.cli._registry import RegistryAccess, registry_options

__all__ = ["COMMANDS"]

_CHART = click.Path(exists=True, file_okay=False, path_type=Path)


def _build_folder(epoch: int) -> Callable[[Path], tuple[str, bytes]]:
    from toolkit.actions.build import build_charts

    def build(folder: Path) -> tuple[str, bytes]:
        (chart,) = build_charts([folder], epoch=epoch, metadata_only=True)
        return chart.version, chart.archive
    return build


def _render(result: DepsResult, output: str) -> None:
    if output == "json":
        echo_json(result.as_dict())
        return
    for dep in result.dependencies:
        where = f"charts/{dep.archive}" if dep.archive else f"charts/{dep.name}/ (already there)"
        click.echo(f"{dep.name} {dep.version} ({dep.repository or 'charts/'}) -> {where}")
    for name in result.removed:
        click.echo(f"removed charts/{name} (no longer a dependency)")
    if result.dependencies:
        click.echo(f"{result.lock_file}: {'written' if result.lock_written else 'unchanged'}")
    else:
        click.echo(f"{result.chart}: no dependencies")


def _run(action: Callable[..., DepsResult], chart: Path, access: RegistryAccess, output: str) -> None:
    settings = settings_from(None)
    result = action(chart, NetworkFetcher(access), build_folder=_build_folder(settings.source_date_epoch),
                    epoch=settings.source_date_epoch)
    _render(result, output)


@click.group("deps")
def deps_group() -> None:
    """Fetch a chart's dependencies (file://, oci://, https://) into its charts/, as helm dependency does."""


@deps_group.command("update")
@click.argument("chart", type=_CHART)
@registry_options
@output_option("text", "json")
def update_command(chart: Path, access: RegistryAccess, output: str) -> None:
    """Resolve every version range to the highest match, fetch into charts/ and write Chart.lock."""
    _run(update_dependencies, chart, access, output)


@deps_group.command("build")
@click.argument("chart", type=_CHART)
@registry_options
@output_option("text", "json")
def build_command(chart: Path, access: RegistryAccess, output: str) -> None:
    """Fetch exactly what Chart.lock pins into charts/ (refused when Chart.yaml changed since)."""
    _run(build_dependencies, chart, access, output)


COMMANDS = [deps_group]

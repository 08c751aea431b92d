"""`tke-catalog build`: package every chart into reproducible archives."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli._common import (
    ChartArgument,
    echo_json,
    output_option,
    root_option,
    settings_from,
    shown_path,
)


@click.command("build", epilog="Example: SOURCE_DATE_EPOCH=1700000000 tke-catalog build charts/platform/coredns --out out/charts")
@click.argument("charts", nargs=-1, type=ChartArgument(), metavar="[CHART|APP]...")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the archives and index.json [default: out/charts in the project folder].")
@root_option
@output_option("text", "json")
def build_command(charts: tuple[str, ...], out: Path | None, root: Path | None, output: str) -> None:
    """Package every chart into reproducible archives (SOURCE_DATE_EPOCH sets the fixed mtime)."""
    from toolkit.actions.build import build
    from toolkit.adapters.project import chart_folders, find_chart_dirs

    settings = settings_from(root)
    folders = chart_folders(charts, settings.root) if charts else find_chart_dirs(settings.charts_dir)
    if out is None:  # in the project, wherever build runs from (not examples/out/); outside it, here
        inside = Path.cwd().resolve().is_relative_to(settings.root)
        out = (settings.root if inside else Path.cwd()) / "out" / "charts"
    result = build(folders, out=out, epoch=settings.source_date_epoch)
    if output == "json":
        echo_json(result.as_dict())
        return
    for chart in sorted(result.charts, key=lambda c: (c.name, c.version)):
        click.echo(f"{chart.name:<24} {chart.version:<10} {chart.digest}  {shown_path(chart.path) if chart.path else ''}")
    click.echo(f"{len(result.charts)} charts built; index: {shown_path(result.index) if result.index else '-'}")


COMMANDS = [build_command]

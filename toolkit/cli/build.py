"""`tke-catalog build`: package every chart into reproducible archives."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.actions.build import build
from toolkit.cli._common import (
    InputPath,
    echo_json,
    output_option,
    root_option,
    settings_from,
)


@click.command("build", epilog="Example: SOURCE_DATE_EPOCH=1700000000 tke-catalog build charts/platform/coredns --out out/charts")
@click.argument("charts", nargs=-1, type=InputPath(file_okay=False))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("out/charts"),
              show_default=True, help="Folder for the archives and index.json.")
@root_option
@output_option("text", "json")
def build_command(charts: tuple[Path, ...], out: Path, root: Path | None, output: str) -> None:
    """Package every chart into reproducible archives (SOURCE_DATE_EPOCH sets the fixed mtime)."""
    settings = settings_from(root)
    if charts:
        folders = list(charts)
    else:
        from toolkit.adapters.project import (
            find_chart_dirs,  # the catalog (and its schema library) only if asked
        )

        folders = find_chart_dirs(settings.charts_dir)
    result = build(folders, out=out, epoch=settings.source_date_epoch)
    if output == "json":
        echo_json(result.as_dict())
        return
    for chart in sorted(result.charts, key=lambda c: (c.name, c.version)):
        click.echo(f"{chart.name:<24} {chart.version:<10} {chart.digest}  {chart.path}")
    click.echo(f"{len(result.charts)} charts built; index: {result.index}")


COMMANDS = [build_command]

"""`tke-catalog matrix`: which chart version of each app serves which Kubernetes minor."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli._common import echo_json, output_option, root_option, settings_from


@click.command("matrix", epilog="Example: tke-catalog matrix -o markdown")
@root_option
@output_option("text", "json", "markdown")
def matrix_command(root: Path | None, output: str) -> None:
    """Print the support matrix: apps down, Kubernetes minors across, the chart version the planner picks
    for a Cluster on that minor (`-`: none; such a Cluster is refused with the supported ranges).

    \b
    Examples:
      tke-catalog matrix
      tke-catalog matrix -o markdown     # the README's table
    """
    from toolkit.actions.matrix import catalog_matrix
    from toolkit.core.matrix import KUBERNETES_MINORS, render_markdown, render_text

    rows = catalog_matrix(settings_from(root).root)
    if output == "json":
        echo_json({"kubernetes": [f"1.{m}" for m in KUBERNETES_MINORS], "apps": [r.as_dict() for r in rows]})
    else:
        click.echo(render_markdown(rows) if output == "markdown" else render_text(rows))


COMMANDS = [matrix_command]

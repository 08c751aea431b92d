"""`tke-catalog pull`: fetch one chart from an OCI registry, verify its digests and unpack it safely."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.cli._common import echo_json, output_option
from toolkit.cli._registry import registry_options

if TYPE_CHECKING:
    from toolkit.actions.registry_access import RegistryAccess

__all__ = ["COMMANDS"]


@click.command("pull", epilog="Example: tke-catalog pull coredns@0.1.2 --registry oci://127.0.0.1:5000/tke --plain-http")
@click.argument("ref", metavar="NAME[@VERSION|@sha256:DIGEST]")
@click.option("--registry", required=True, metavar="oci://HOST[:PORT]/PATH", help="Where the chart lives.")
@registry_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Folder to unpack into (as OUT/NAME/).")
@output_option("text", "json")
def pull_command(ref: str, registry: str, access: RegistryAccess, out: Path, output: str) -> None:
    """Pull NAME (latest release), NAME@VERSION or NAME@sha256:DIGEST and unpack it into OUT/NAME/."""
    from toolkit.actions.pull import pull
    from toolkit.core.oci_reference import parse_chart_ref

    chart_ref = parse_chart_ref(ref)
    source, client = access.connect(registry)
    chart = pull(chart_ref, registry=client, source=source, out=out)
    if output == "json":
        echo_json(chart.as_dict())
    else:
        click.echo(f"{chart.name} {chart.version} {chart.digest} -> {chart.path}")


COMMANDS = [pull_command]

"""`tke-catalog images`: every container image the catalog, or a Cluster's plan, runs."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli._common import (
    InputPath,
    echo_json,
    helm_option,
    output_option,
    root_option,
    settings_from,
)


@click.command("images", epilog="Example: tke-catalog images cluster.yaml -o json > images.json")
@click.argument("cluster", required=False, type=InputPath(dir_okay=False))
@click.option("--image-registry", metavar="HOST[/PATH]",
              help="Render with global.imageRegistry set, as an air-gapped install will (the list to mirror).")
@helm_option
@root_option
@output_option("text", "json")
def images_command(cluster: Path | None, image_registry: str | None, helm: str | None, root: Path | None,
                   output: str) -> None:
    """List every container image, read from helm's renderings: of every catalog chart and each of its
    ci/ variants (no CLUSTER), or of the releases a Cluster's plan installs.

    \b
    Examples:
      tke-catalog images                                   # the whole catalog
      tke-catalog images examples/cluster.yaml --image-registry reg.local
    """
    from toolkit.actions.images import catalog_images, plan_images
    from toolkit.adapters.helm import Helm

    settings = settings_from(root, helm)
    runner = Helm(settings.helm, source=settings.helm_source)
    uses = (plan_images(cluster, root=settings.root, helm=runner, image_registry=image_registry) if cluster
            else catalog_images(settings.charts_dir, runner, image_registry=image_registry))
    if output == "json":
        echo_json({"images": [{"image": u.image, "usedBy": list(u.where)} for u in uses]})
        return
    for use in uses:
        click.echo(use.image)


COMMANDS = [images_command]

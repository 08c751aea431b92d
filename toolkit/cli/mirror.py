"""`tke-catalog mirror IMAGE... --to HOST[/PATH]`: copy images (or OCI charts) into the platform's registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from toolkit.cli._common import InputPath, echo_json, output_option
from toolkit.cli._registry import registry_options
from toolkit.errors import MirrorFailed, UsageError

if TYPE_CHECKING:
    from toolkit.actions.mirror import MirrorOutcome
    from toolkit.actions.registry_access import RegistryAccess

__all__ = ["COMMANDS"]


def _render(outcomes: list[MirrorOutcome], output: str) -> None:
    if output == "json":
        echo_json({"images": [o.as_dict() for o in outcomes]})
        return
    for o in outcomes:
        if o.action == "failed" and o.error is not None:
            click.echo(f"failed     {o.source}: {o.error.message}", err=True)
            if o.error.hint:
                click.echo(f"  hint: {o.error.hint}", err=True)
        else:
            blobs = f", {o.blobs_uploaded} blob(s) uploaded" if o.action == "copied" else ""
            click.echo(f"{o.action:<10} {o.source} -> {o.target} {o.digest}{blobs}")


@click.command("mirror", epilog="Example: tke-catalog mirror --from-json images.json --to registry.local:5000/mirror")
@click.argument("images", nargs=-1, metavar="[IMAGE...]")
@click.option("--from-json", "from_json", type=InputPath(dir_okay=False),
              help="Mirror every image of `tke-catalog images -o json` output.")
@click.option("--to", "to", required=True, metavar="HOST[:PORT][/PATH]",
              help="The mirror: an image HOST/REPO:TAG goes to HOST[/PATH]/REPO:TAG, as --image-registry pulls it.")
@registry_options
@output_option("text", "json")
def mirror_command(images: tuple[str, ...], from_json: Path | None, to: str, access: RegistryAccess,
                   output: str) -> None:
    """Copy images into a registry with their digests unchanged (an air-gapped platform's mirror)."""
    from toolkit.actions.mirror import mirror_images, registry_connector
    from toolkit.adapters.files import read_text
    from toolkit.core.image_ref import images_of_listing, parse_image

    names = [*images, *(images_of_listing(read_text(from_json), str(from_json)) if from_json else [])]
    if not names:
        raise UsageError("no images to mirror", hint="name images, or pass --from-json FILE")
    refs = [parse_image(name) for name in names]
    outcomes = mirror_images(refs, to, registry_connector(access))
    _render(outcomes, output)
    failed = [o for o in outcomes if o.action == "failed"]
    if failed:
        raise MirrorFailed(f"{len(failed)} of {len(outcomes)} images were not mirrored", hint="see the messages above")


COMMANDS = [mirror_command]

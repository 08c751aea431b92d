"""Container image references, read as docker and containerd read them, and where a mirror puts them.

`busybox:1.36` is `docker.io/library/busybox:1.36`; the first path component is a registry host only
when it holds a `.` or a `:`, or is `localhost`; a reference carries a tag, a digest, or both (the
digest then wins); no tag means `latest`. A mirror keeps the repository path as written and swaps the
registry: `docker.io/tkestack/galaxy:v1` mirrored to `HOST/PATH` is `HOST/PATH/tkestack/galaxy:v1`,
which is what our charts pull once `global.imageRegistry` is `HOST/PATH` (see `images --image-registry`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from toolkit.errors import InputError

__all__ = ["ImageRef", "images_of_listing", "mirror_target", "parse_image"]

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}\Z")
DOCKER_HUB = "docker.io"


@dataclass(frozen=True)
class ImageRef:
    """A registry host, a repository path as written, and a tag and/or digest."""

    host: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def repository(self) -> str:
        """The repository on the registry's API (Docker Hub's one-name images live under `library/`)."""
        return f"library/{self.path}" if self.host == DOCKER_HUB and "/" not in self.path else self.path

    @property
    def api_host(self) -> str:
        return "registry-1.docker.io" if self.host == DOCKER_HUB else self.host

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        return f"{self.host}/{self.path}" + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def parse_image(text: str) -> ImageRef:
    """An image reference, or an InputError saying what is wrong with it."""
    name, _, digest_text = text.partition("@")
    digest = digest_text if "@" in text else None
    if digest is not None and not _DIGEST.match(digest):
        raise InputError(f"image {text!r}: {digest!r} is not a sha256 digest", hint="write @sha256:<64 hex digits>")
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
        if not _TAG.match(tag):
            raise InputError(f"image {text!r}: {tag!r} is not a valid tag", hint="tags are up to 128 of [A-Za-z0-9_.-]")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = DOCKER_HUB, name
    if not path or not all(_COMPONENT.match(part) for part in path.split("/")):
        raise InputError(f"image {text!r}: {path!r} is not a repository path",
                         hint="lower-case components of [a-z0-9._-] separated by `/`")
    return ImageRef(host, path, tag, digest)


def mirror_target(image: ImageRef, to: str) -> ImageRef:
    """Where `image` goes in the mirror `to` (`HOST` or `HOST/PATH`)."""
    to = to.removeprefix("oci://").rstrip("/")
    host, _, prefix = to.partition("/")
    if not host:
        raise InputError(f"mirror {to!r}: no registry host", hint="write --to HOST[:PORT][/PATH]")
    return ImageRef(host, f"{prefix}/{image.path}" if prefix else image.path, image.tag, image.digest)


def images_of_listing(text: str, source: str) -> list[str]:
    """The images named in `tke-catalog images -o json` output."""
    try:
        return [str(entry["image"]) for entry in json.loads(text)["images"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{source}: not the output of `tke-catalog images -o json`",
                         hint="write it with `tke-catalog images [CLUSTER] -o json > FILE`") from exc

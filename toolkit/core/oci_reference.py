"""Where charts live in a registry and how one is named there: `oci://` locations, `NAME@VERSION` chart
references, and the tag <-> version spelling helm uses (OCI tags cannot hold `+`, so helm writes `_`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import semver

from toolkit.errors import UsageError

__all__ = [
    "OciChartRef",
    "OciReference",
    "is_sha256_digest",
    "latest_version",
    "parse_chart_ref",
    "parse_oci_reference",
    "tag_for_version",
    "version_for_tag",
]

_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                   r"|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def tag_for_version(version: str) -> str:
    """The OCI tag helm pushes a chart version under (`+` is not allowed in tags, so it becomes `_`)."""
    return version.replace("+", "_")


def version_for_tag(tag: str) -> str:
    """The chart version an OCI tag stands for (`_` read back as `+`)."""
    return tag.replace("_", "+")


def is_sha256_digest(text: str) -> bool:
    """Whether `text` is a `sha256:<64 lower-case hex digits>` digest."""
    return _DIGEST.match(text) is not None


def latest_version(tags: Sequence[str]) -> str | None:
    """The tag of the highest semver among the tags (`_` read as `+`), preferring releases over prereleases."""
    versions = []
    for tag in tags:
        try:
            versions.append(semver.Version.parse(version_for_tag(tag).removeprefix("v")))
        except ValueError:
            continue
    releases = [v for v in versions if not v.prerelease]
    best = max(releases or versions, default=None)
    if best is None:
        return None
    return next(t for t in tags if version_for_tag(t).removeprefix("v") == str(best))


@dataclass(frozen=True)
class OciReference:
    """`oci://HOST[:PORT]/PATH`: where charts live; chart NAME is stored at `PATH/NAME`."""

    host: str
    path: str

    def repository(self, chart: str) -> str:
        """The repository name of one chart below this location."""
        return f"{self.path}/{chart}" if self.path else chart

    def __str__(self) -> str:
        return f"oci://{self.host}/{self.path}" if self.path else f"oci://{self.host}"


def parse_oci_reference(text: str) -> OciReference:
    """Parse `oci://HOST[:PORT]/PATH` (PATH optional), or raise a UsageError saying what is wrong."""
    example = "e.g. oci://registry.example.com:5000/charts"
    if not text.startswith("oci://"):
        raise UsageError(f"registry {text!r} must start with oci://", hint=example)
    rest = text[len("oci://"):].rstrip("/")
    host, _, path = rest.partition("/")
    if not host or not _HOST.match(host):
        raise UsageError(f"registry {text!r}: {host!r} is not a host[:port]", hint=example)
    if ":" in path or "@" in path:
        raise UsageError(f"registry {text!r} must not name a tag or digest",
                         hint="give the folder charts are pushed into; the tag is each chart's version")
    for component in filter(None, path.split("/")):
        if not _PATH_COMPONENT.match(component):
            raise UsageError(f"registry {text!r}: path component {component!r} is not valid in OCI",
                             hint="use lower-case letters, digits and single separators (. _ -)")
    return OciReference(host, "/".join(filter(None, path.split("/"))))


@dataclass(frozen=True)
class OciChartRef:
    """`NAME`, `NAME@VERSION` or `NAME@sha256:DIGEST` as `pull` takes it."""

    name: str
    version: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str | None:
        """What to ask the registry for: the digest, else the tag of the version."""
        return self.digest or (tag_for_version(self.version) if self.version else None)


def parse_chart_ref(text: str) -> OciChartRef:
    """Parse `NAME[@VERSION|@sha256:DIGEST]`; a UsageError says the accepted forms."""
    hint = "write NAME, NAME@1.2.3 or NAME@sha256:<64 hex digits>"
    name, sep, rest = text.partition("@")
    if not name or not _PATH_COMPONENT.match(name) or "/" in name:
        raise UsageError(f"chart reference {text!r}: {name!r} is not a chart name", hint=hint)
    if not sep:
        return OciChartRef(name)
    if rest.startswith("sha256:"):
        if not is_sha256_digest(rest):
            raise UsageError(f"chart reference {text!r}: malformed digest", hint=hint)
        return OciChartRef(name, digest=rest)
    if not rest or not _TAG.match(tag_for_version(rest)):
        raise UsageError(f"chart reference {text!r}: {rest!r} is not a version", hint=hint)
    return OciChartRef(name, version=rest)

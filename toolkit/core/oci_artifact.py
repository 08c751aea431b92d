"""Helm's OCI chart artifact as pure data: media types, descriptors, the manifest, and reading one back.

`chart_artifact` produces byte for byte what `helm push` (helm 3.22, pkg/registry/client.go `Push`)
uploads for the same archive: the config blob from `toolkit.core.gojson`, and an `ocispec.Manifest`
without a `mediaType` field whose annotations helm derives from the metadata. helm sets
`org.opencontainers.image.created` to the archive file's mtime; we derive it from SOURCE_DATE_EPOCH
(passed in), so the manifest digest is reproducible.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.archive import sha256_digest
from toolkit.core.gojson import go_json, helm_metadata
from toolkit.core.oci_reference import is_sha256_digest, tag_for_version
from toolkit.errors import RegistryError

__all__ = [
    "CHART_LAYER_MEDIA_TYPE",
    "CONFIG_MEDIA_TYPE",
    "MANIFEST_MEDIA_TYPE",
    "PROVENANCE_LAYER_MEDIA_TYPE",
    "ChartArtifact",
    "ChartManifest",
    "Descriptor",
    "chart_artifact",
    "helm_annotations",
    "parse_chart_manifest",
    "rfc3339",
]

CONFIG_MEDIA_TYPE = "application/vnd.cncf.helm.config.v1+json"
CHART_LAYER_MEDIA_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
PROVENANCE_LAYER_MEDIA_TYPE = "application/vnd.cncf.helm.chart.provenance.v1.prov"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"


def rfc3339(epoch: int) -> str:
    """`2006-01-02T15:04:05Z` in UTC, as Go's `time.RFC3339` formats a UTC time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def helm_annotations(metadata: Mapping[str, Any], created: str) -> dict[str, str]:
    """helm's `generateOCIAnnotations`: description, title, version, url, created, source, authors,
    then the chart's own annotations (which cannot override title or version)."""
    out: dict[str, str] = {}

    def add(key: str, value: str) -> None:
        if value.strip():
            out[key] = value

    add("org.opencontainers.image.description", metadata.get("description", ""))
    add("org.opencontainers.image.title", metadata.get("name", ""))
    add("org.opencontainers.image.version", metadata.get("version", ""))
    add("org.opencontainers.image.url", metadata.get("home", ""))
    add("org.opencontainers.image.created", created)
    if metadata.get("sources"):
        add("org.opencontainers.image.source", metadata["sources"][0])
    if metadata.get("maintainers"):
        authors = ", ".join(m.get("name", "") + (f" ({m['email']})" if m.get("email") else "")
                            for m in metadata["maintainers"])
        add("org.opencontainers.image.authors", authors)
    for key, value in metadata.get("annotations", {}).items():
        if key not in ("org.opencontainers.image.version", "org.opencontainers.image.title"):
            out[key] = value
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class ChartArtifact:
    """Everything one chart version uploads: two blobs and the manifest that names them."""

    name: str
    version: str
    config: bytes = field(repr=False)
    layer: bytes = field(repr=False)
    manifest: bytes = field(repr=False)

    @property
    def tag(self) -> str:
        return tag_for_version(self.version)

    @property
    def digest(self) -> str:
        """The manifest digest: what the tag points at."""
        return sha256_digest(self.manifest)

    @property
    def config_descriptor(self) -> Descriptor:
        return Descriptor(CONFIG_MEDIA_TYPE, sha256_digest(self.config), len(self.config))

    @property
    def layer_descriptor(self) -> Descriptor:
        return Descriptor(CHART_LAYER_MEDIA_TYPE, sha256_digest(self.layer), len(self.layer))

    def blobs(self) -> list[tuple[Descriptor, bytes]]:
        return [(self.config_descriptor, self.config), (self.layer_descriptor, self.layer)]


def chart_artifact(archive: bytes, chart_yaml: str | bytes, *, created_epoch: int) -> ChartArtifact:
    """The artifact `helm push` makes of `archive` whose file mtime is `created_epoch` (UTC)."""
    metadata = helm_metadata(chart_yaml)
    config = go_json(metadata)
    layer = Descriptor(CHART_LAYER_MEDIA_TYPE, sha256_digest(archive), len(archive))
    manifest = {
        "schemaVersion": 2,
        "config": Descriptor(CONFIG_MEDIA_TYPE, sha256_digest(config), len(config)).as_json(),
        "layers": [layer.as_json()],
        "annotations": helm_annotations(metadata, rfc3339(created_epoch)),
    }
    return ChartArtifact(str(metadata.get("name", "")), str(metadata.get("version", "")), config, archive,
                         go_json(manifest))


@dataclass(frozen=True)
class ChartManifest:
    """The parts of a chart manifest we use: its config and chart layer, and its annotations."""

    config: Descriptor
    chart: Descriptor
    annotations: Mapping[str, str]


def _descriptor(data: Any, where: str) -> Descriptor:
    if (not isinstance(data, dict) or not isinstance(data.get("mediaType"), str)
            or not isinstance(data.get("digest"), str) or not isinstance(data.get("size"), int)):
        raise RegistryError(f"{where}: malformed descriptor in the manifest", hint="is this a helm chart?")
    if not is_sha256_digest(data["digest"]):
        raise RegistryError(f"{where}: unsupported digest {data['digest']!r}", hint="only sha256 is supported")
    return Descriptor(data["mediaType"], data["digest"], data["size"])


def parse_chart_manifest(data: bytes, where: str) -> ChartManifest:
    """Read a manifest and check that it is a helm chart (config and chart layer media types)."""
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{where}: the manifest is not JSON", hint="is this an OCI artifact?") from exc
    if not isinstance(manifest, dict) or manifest.get("schemaVersion") != 2:
        raise RegistryError(f"{where}: not an OCI image manifest (schemaVersion 2)", hint="is this a helm chart?")
    config = _descriptor(manifest.get("config"), where)
    if config.media_type != CONFIG_MEDIA_TYPE:
        raise RegistryError(f"{where}: config media type is {config.media_type!r}, not a helm chart",
                            hint=f"helm charts use {CONFIG_MEDIA_TYPE}")
    layers = [_descriptor(layer, where) for layer in manifest.get("layers") or []]
    charts = [layer for layer in layers if layer.media_type == CHART_LAYER_MEDIA_TYPE]
    if len(charts) != 1:
        raise RegistryError(f"{where}: expected one chart layer, found {len(charts)}",
                            hint=f"helm charts have one {CHART_LAYER_MEDIA_TYPE} layer")
    annotations = manifest.get("annotations") or {}
    return ChartManifest(config, charts[0], annotations if isinstance(annotations, dict) else {})

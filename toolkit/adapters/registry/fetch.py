"""Fetching one chart from a registry and verifying it: resolve the tag or digest, fetch the manifest
and chart layer, check both digests, and read the archive with helm's limits. `pull` writes the result
to a folder; plan and apply install it by the digest pinned in catalog.lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from toolkit.adapters.registry.client import ChartRegistry
from toolkit.core.archive_reader import MAX_CHART_BYTES, read_chart_archive
from toolkit.core.chart import parse_chart_metadata
from toolkit.core.oci_artifact import parse_chart_manifest
from toolkit.core.oci_reference import OciChartRef, OciReference, latest_version
from toolkit.errors import RegistryError

__all__ = ["PulledChart", "fetch_chart"]


@dataclass(frozen=True)
class PulledChart:
    """A chart fetched and verified: manifest digest, the archive bytes and the files inside it."""

    name: str
    version: str
    digest: str
    archive: bytes = field(repr=False)
    files: dict[str, bytes] = field(repr=False)
    path: Path | None = None

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "digest": self.digest, "path": str(self.path or "")}


def fetch_chart(ref: OciChartRef, *, registry: ChartRegistry, source: OciReference) -> PulledChart:
    """Resolve the reference, fetch the manifest and chart layer, verify both digests and read the
    archive with helm's limits (100 MiB total, 5 MiB per file, no links or paths outside the chart)."""
    repository = source.repository(ref.name)
    reference = ref.reference
    if reference is None:
        reference = latest_version(registry.list_tags(repository))
        if reference is None:
            raise RegistryError(f"{source}/{ref.name}: no chart versions found", status=404,
                                hint="check the chart name and --registry, or publish it first")
    where = f"{source}/{ref.name}@{reference}" if reference.startswith("sha256:") else f"{source}/{ref.name}:{reference}"
    manifest_bytes, digest = registry.get_manifest(repository, reference)
    manifest = parse_chart_manifest(manifest_bytes, where)
    archive = registry.get_blob(repository, manifest.chart.digest, max_bytes=MAX_CHART_BYTES)
    top, files = read_chart_archive(archive, where)
    metadata = parse_chart_metadata(files["Chart.yaml"].decode("utf-8", "replace"), f"{where}/Chart.yaml")
    name, version = str(metadata["name"]), str(metadata["version"])
    if name != ref.name or top != name:
        raise RegistryError(f"{where}: holds chart {name!r} (folder {top!r}), not {ref.name!r}",
                            hint="the registry path does not match the chart inside it")
    if ref.version is not None and version != ref.version:
        raise RegistryError(f"{where}: holds version {version}, not {ref.version}",
                            hint="the tag does not match Chart.yaml's version; re-publish the chart")
    return PulledChart(name, version, digest, archive, files)

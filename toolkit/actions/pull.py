"""`pull`: fetch one chart from an OCI registry by name, version or digest, verify it, unpack it safely.

`fetch_chart` does the network part and returns verified bytes and files (apply uses it to get a chart
by the digest pinned in catalog.lock); `pull` also writes the files to `out/<name>/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import semver

from toolkit.core.chart import parse_chart_metadata
from toolkit.errors import InputError, RegistryError
from toolkit.adapters.files import write_atomic
from toolkit.core.oci import MAX_CHART_BYTES, ChartRef, OciReference, parse_chart_manifest, read_chart_archive
from toolkit.adapters.registry.client import ChartRegistry

__all__ = ["PulledChart", "fetch_chart", "latest_version", "pull"]


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


def latest_version(tags: list[str]) -> str | None:
    """The highest semver among the tags (`_` read as `+`), preferring releases over prereleases."""
    versions = []
    for tag in tags:
        try:
            versions.append(semver.Version.parse(tag.replace("_", "+").removeprefix("v")))
        except ValueError:
            continue
    releases = [v for v in versions if not v.prerelease]
    best = max(releases or versions, default=None)
    if best is None:
        return None
    return next(t for t in tags if t.replace("_", "+").removeprefix("v") == str(best))


def fetch_chart(ref: ChartRef, *, registry: ChartRegistry, source: OciReference) -> PulledChart:
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


def pull(ref: ChartRef, *, registry: ChartRegistry, source: OciReference, out: Path) -> PulledChart:
    """Fetch and verify a chart, then write its files to `out/<name>/` (which must not exist yet or be empty)."""
    chart = fetch_chart(ref, registry=registry, source=source)
    folder = out / chart.name
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(f"{folder}: already exists", hint="remove it or choose another --out folder")
    for relative, data in sorted(chart.files.items()):
        write_atomic(folder / relative, data)
    return PulledChart(chart.name, chart.version, chart.digest, chart.archive, chart.files, folder)

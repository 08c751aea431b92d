"""`build`: package every chart into a reproducible archive and write an index of what was built."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from toolkit.adapters.chart_folder import load_chart_folder
from toolkit.adapters.files import read_bytes, write_atomic
from toolkit.core.archive import build_chart_archive, sha256_digest
from toolkit.core.chart import ChartPackage, lines_of_one_chart
from toolkit.errors import InputError

__all__ = ["BuildResult", "BuiltChart", "NamedByPackage", "archive_of", "build", "build_charts", "load_chart", "load_charts"]

INDEX_FILE = "index.json"


class NamedByPackage:
    """`name` and `version` of something that holds a parsed chart as `package`."""

    package: ChartPackage

    @property
    def name(self) -> str:
        return self.package.name

    @property
    def version(self) -> str:
        return self.package.version


@dataclass(frozen=True)
class BuiltChart(NamedByPackage):
    """One packaged chart: its archive bytes, their digest and where they were written."""

    package: ChartPackage
    archive: bytes
    digest: str
    path: Path | None = None

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "digest": self.digest,
                "contentDigest": self.package.content_digest, "path": str(self.path or "")}


@dataclass(frozen=True)
class BuildResult:
    charts: tuple[BuiltChart, ...]
    index: Path | None

    def as_dict(self) -> dict[str, object]:
        return {"charts": [c.as_dict() for c in self.charts]}


def load_chart(folder: Path, *, metadata_only: bool = False) -> ChartPackage:
    """Read a chart folder and parse it."""
    return load_chart_folder(folder, metadata_only=metadata_only)


def _archive(package: ChartPackage, epoch: int, cache: Path | None) -> bytes:
    """The chart's archive; with `cache`, reused by content digest and mtime instead of compressed again."""
    if cache is None:
        return build_chart_archive(package.name, package.files, mtime=epoch)
    path = cache / f"{package.name}-{package.content_digest.split(':')[-1][:32]}-{epoch}.tgz"
    if path.is_file():
        return read_bytes(path)
    archive = build_chart_archive(package.name, package.files, mtime=epoch)
    write_atomic(path, archive)
    return archive


def load_charts(folders: Sequence[Path], *, metadata_only: bool = False) -> list[ChartPackage]:
    """Read each chart folder; duplicate names are an error, except for the lines of one chart (folders
    `NAME` and `NAME@LINE` side by side), which must differ in version."""
    packages: list[ChartPackage] = []
    seen: dict[str, Path] = {}
    versions: dict[tuple[str, str], Path] = {}
    for folder in folders:
        package = load_chart(folder, metadata_only=metadata_only)
        first = seen.setdefault(package.name, folder)
        if first != folder and not lines_of_one_chart(str(first), str(folder), package.name):
            raise InputError(f"{folder}: chart name `{package.name}` is also used by {first}",
                             hint="give every chart a unique name")
        other = versions.setdefault((package.name, package.version), folder)
        if other != folder:
            raise InputError(f"{folder}: chart {package.name} {package.version} is also in {other}",
                             hint="give each line of a chart its own version (older lines lower)")
        packages.append(package)
    return packages


def archive_of(package: ChartPackage, epoch: int, cache: Path | None = None) -> BuiltChart:
    """One chart packaged (from `cache` by content digest when it holds the archive)."""
    archive = _archive(package, epoch, cache)
    return BuiltChart(package, archive, sha256_digest(archive))


def build_charts(folders: Sequence[Path], *, epoch: int, metadata_only: bool = False,
                 cache: Path | None = None) -> list[BuiltChart]:
    """Package each chart in memory (`load_charts`' rules). `metadata_only` skips parsing values and
    schemas (publishing needs only Chart.yaml); `cache` keeps archives by content digest."""
    packages = load_charts(folders, metadata_only=metadata_only)
    if len(packages) < 2:
        return [archive_of(p, epoch, cache) for p in packages]
    from concurrent.futures import (
        ThreadPoolExecutor,  # zlib lets go of the GIL: compress side by side
    )

    with ThreadPoolExecutor(max_workers=min(len(packages), os.cpu_count() or 1, 8)) as pool:
        return list(pool.map(lambda p: archive_of(p, epoch, cache), packages))


def build(folders: Sequence[Path], *, out: Path, epoch: int) -> BuildResult:
    """Package the charts into `out/<name>-<version>.tgz` and write `out/index.json`."""
    written = []
    for chart in build_charts(folders, epoch=epoch, metadata_only=True):  # values are lint's to check
        path = out / f"{chart.name}-{chart.version}.tgz"
        write_atomic(path, chart.archive, mtime=epoch)  # so `helm push` of it writes our publish's manifest
        written.append(BuiltChart(chart.package, chart.archive, chart.digest, path))
    result = BuildResult(tuple(written), out / INDEX_FILE)
    write_atomic(out / INDEX_FILE, (json.dumps(result.as_dict(), indent=2, sort_keys=True) + "\n").encode())
    return result

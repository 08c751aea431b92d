"""Chart sources on disk: the catalog's chart folders, and a directory of charts (custom apps, tests).

Shell: reads files only through `toolkit.adapters.files`; parsing is `toolkit.core.chart`'s. Each chart folder is
read once per source object, so planning a fleet reads every chart once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.adapters.chart_folder import load_chart_folder
from toolkit.core.chart import ChartPackage
from toolkit.core.model import (
    KUBE_VERSION_NOTE,
    MIN_KERNEL,
    OPERATOR_STEP,
    ChartInfo,
    ChartRef,
    ChartSource,
)
from toolkit.core.subcharts import subchart_infos
from toolkit.errors import InputError

if TYPE_CHECKING:
    from toolkit.adapters.chart_info_cache import ChartInfoCache

__all__ = ["CatalogChartSource", "ChainedChartSource", "DirectoryChartSource", "chart_info", "load_chart_folder"]


def chart_info(package: ChartPackage, path: str) -> ChartInfo:
    """The planner's view of a parsed chart."""
    kube = package.metadata.get("kubeVersion")
    return ChartInfo(name=package.name, version=package.version, digest=package.content_digest,
                     default_values=dict(package.values or {}), schema=package.schema, path=path,
                     kube_version=str(kube) if kube else None,
                     app_version=str(package.metadata.get("appVersion") or ""),
                     kube_version_note=str(_annotations(package).get(KUBE_VERSION_NOTE) or ""),
                     min_kernel=str(_annotations(package).get(MIN_KERNEL) or ""),
                     operator_step=str(_annotations(package).get(OPERATOR_STEP) or ""),
                     subcharts=subchart_infos(package.files, package.metadata, package.source)
                     if any(p.startswith("charts/") for p in package.files) else ())


def _annotations(package: ChartPackage) -> dict[str, object]:
    found = package.metadata.get("annotations")
    return dict(found) if isinstance(found, dict) else {}


class CatalogChartSource:
    """The charts of the catalog, from their folders under `root`: one version per folder (Chart.yaml's),
    the current line's folder and every older line's."""

    def __init__(self, root: Path, cache: Path | None = None) -> None:
        self.root = root
        self._cache: dict[str, ChartInfo] = {}
        self._disk: ChartInfoCache | None = None
        if cache is not None:
            from toolkit.adapters.chart_info_cache import ChartInfoCache

            self._disk = ChartInfoCache(cache / "chart-info")  # between runs: `cache` is the user's cache

    def _read(self, relative: str) -> ChartInfo:
        info = self._cache.get(relative)
        if info is None:
            folder = self.root / relative
            if not (folder / "Chart.yaml").is_file():
                raise InputError(f"{folder}: no chart here (Chart.yaml is missing)",
                                 hint="check the app's `chart:` path in catalog/catalog.yaml")
            kept, signature = self._disk.get(folder) if self._disk is not None else (None, None)
            info = kept or chart_info(load_chart_folder(folder, relative), relative)
            if kept is None and self._disk is not None:
                self._disk.put(signature, info)
            self._cache[relative] = info
        return info

    def versions(self, app: ChartRef) -> list[str]:
        """The version in each line's Chart.yaml, or nothing for charts outside the catalog."""
        if app.path is None:
            return []
        return [self._read(folder).version for folder in (app.path, *app.lines)]

    def load(self, app: ChartRef, version: str) -> ChartInfo:
        """The line's chart folder that holds `version`."""
        if app.path is None:
            raise InputError(f"{app.describe()}: not a catalog chart", hint="use a chart source that can fetch it")
        infos = [self._read(folder) for folder in (app.path, *app.lines)]
        for info in infos:
            if info.version == version:
                return info
        held = ", ".join(info.version for info in infos)
        raise InputError(f"{app.path}: holds version {held}, not {version}",
                         hint=f"use chartVersion {infos[0].version} or leave chartVersion out")


class DirectoryChartSource:
    """Charts in a folder, found by their Chart.yaml at depth 1 or 2 (`<name>/` or `<name>/<version>/`).

    Serves any ChartRef by chart name, whatever its repoURL: a stand-in for a registry.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: dict[str, dict[str, Path]] | None = None
        self._cache: dict[Path, ChartInfo] = {}

    def _scan(self) -> dict[str, dict[str, Path]]:
        if self._index is None:
            index: dict[str, dict[str, Path]] = {}
            candidates = sorted(self.folder.glob("*/Chart.yaml")) + sorted(self.folder.glob("*/*/Chart.yaml"))
            for chart_yaml in candidates:
                info = self._info(chart_yaml.parent)
                index.setdefault(info.name, {})[info.version] = chart_yaml.parent
            self._index = index
        return self._index

    def _info(self, folder: Path) -> ChartInfo:
        info = self._cache.get(folder)
        if info is None:
            rel = folder.relative_to(self.folder).as_posix()
            info = chart_info(load_chart_folder(folder, rel), rel)
            self._cache[folder] = info
        return info

    def versions(self, app: ChartRef) -> list[str]:
        """Every version of the chart in the folder."""
        return list(self._scan().get(app.chart_name, {}))

    def load(self, app: ChartRef, version: str) -> ChartInfo:
        """One version of the chart."""
        folder = self._scan().get(app.chart_name, {}).get(version)
        if folder is None:
            raise InputError(f"{self.folder}: no chart {app.chart_name} {version}", hint="check the chart folders")
        return self._info(folder)


class ChainedChartSource:
    """Asks each source in turn; the first that knows a chart serves it."""

    def __init__(self, sources: Sequence[ChartSource]) -> None:
        self.sources = list(sources)

    def _owner(self, app: ChartRef) -> tuple[ChartSource, list[str]] | None:
        for source in self.sources:
            versions = source.versions(app)
            if versions:
                return source, versions
        return None

    def versions(self, app: ChartRef) -> list[str]:
        """The versions of the first source that knows the chart."""
        owner = self._owner(app)
        return owner[1] if owner else []

    def load(self, app: ChartRef, version: str) -> ChartInfo:
        """The chart from the first source that knows it."""
        owner = self._owner(app)
        if owner is None:
            raise InputError(f"no chart source knows {app.describe()}", hint="check chartName and repoURL")
        return owner[0].load(app, version)

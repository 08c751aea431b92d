"""Charts from OCI registries for planning and apply: custom apps (`repoURL: oci://...`) and, with
`--registry`, the catalog's own charts pinned by the digests in catalog.lock. Every chart is fetched
once, verified by digest, and its archive cached by content digest for helm to install."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.adapters.chart_dirs import ChainedChartSource, chart_info
from toolkit.adapters.files import write_atomic
from toolkit.core.archive import content_digest
from toolkit.core.chart import parse_chart
from toolkit.core.model import ChartInfo, ChartRef
from toolkit.core.oci_reference import (
    OciChartRef,
    OciReference,
    parse_oci_reference,
    version_for_tag,
)
from toolkit.errors import InputError

if TYPE_CHECKING:  # the registry client (urllib3) loads only when a chart comes from a registry
    from toolkit.adapters.registry.client import ChartRegistry

__all__ = ["RegistryChartSource", "cached_archive_path", "chart_source_for"]

Connector = Callable[[OciReference], "ChartRegistry"]


def cached_archive_path(cache: Path, name: str, version: str, digest: str) -> Path:
    """Where apply finds (or puts) the archive of one chart version with this content digest."""
    return cache / "charts" / f"{name}-{version}-{digest.split(':')[-1][:16]}.tgz"


class RegistryChartSource:
    """Serves ChartRefs whose repoURL is `oci://...`, and catalog charts listed in `pins` (name → the lock
    entries, one per published version (line), each with `version` and `digest`) from `pinned_registry`."""

    def __init__(self, connect: Connector, cache: Path, *, pinned_registry: str | None = None,
                 pins: Mapping[str, Sequence[Mapping[str, str]]] | None = None) -> None:
        self._connect = connect
        self._cache = cache
        self._clients: dict[str, ChartRegistry] = {}
        self._pinned = parse_oci_reference(pinned_registry) if pinned_registry else None
        self._pins = dict(pins or {})
        self._loaded: dict[tuple[str, str, str], ChartInfo] = {}

    def _client(self, where: OciReference) -> ChartRegistry:
        if where.host not in self._clients:
            self._clients[where.host] = self._connect(where)
        return self._clients[where.host]

    def _location(self, app: ChartRef) -> OciReference | None:
        if app.repo_url and app.repo_url.startswith("oci://"):
            return parse_oci_reference(app.repo_url)
        if self._pinned is not None and app.chart_name in self._pins:
            return self._pinned
        return None

    def versions(self, app: ChartRef) -> list[str]:
        """Tags of the chart's repository (`_` read back as `+`); pinned charts offer their pinned version."""
        where = self._location(app)
        if where is None:
            return []
        if app.chart_name in self._pins and not app.repo_url:
            return [pin["version"] for pin in self._pins[app.chart_name]]
        return [version_for_tag(tag) for tag in self._client(where).list_tags(where.repository(app.chart_name))]

    def load(self, app: ChartRef, version: str) -> ChartInfo:
        """Fetch (by pinned digest when there is one), verify, cache the archive, describe the chart."""
        where = self._location(app)
        if where is None:
            raise InputError(f"{app.describe()}: not in a registry", hint="set repoURL: oci://HOST/PATH")
        pin = next((p for p in self._pins.get(app.chart_name, ()) if p["version"] == version),
                   None) if not app.repo_url else None
        key = (str(where), app.chart_name, version)
        if key in self._loaded:
            return self._loaded[key]
        ref = OciChartRef(app.chart_name, digest=pin["digest"]) if pin else OciChartRef(app.chart_name, version=version)
        from toolkit.adapters.registry.fetch import fetch_chart

        pulled = fetch_chart(ref, registry=self._client(where), source=where)
        package = parse_chart(pulled.files, f"{where}/{pulled.name}:{pulled.version}")
        digest = content_digest(package.files)
        target = cached_archive_path(self._cache, pulled.name, pulled.version, digest)
        if not target.is_file():
            write_atomic(target, pulled.archive)
        info = chart_info(package, str(target))
        self._loaded[key] = info
        return info


def chart_source_for(root: Path, cache: Path, connect: Connector, *, registry: str | None,
                     lock_file: Path | None) -> ChainedChartSource:
    """Where plan and apply get charts: registries first (custom apps; with `registry`, the catalog's
    charts pinned by catalog.lock), then the catalog's folders."""
    import json

    from toolkit.adapters.chart_dirs import CatalogChartSource
    from toolkit.adapters.files import read_text

    pins: dict[str, list[Mapping[str, str]]] = {}
    if registry is not None:
        lock_path = lock_file or root / "catalog.lock"
        if not lock_path.is_file():
            raise InputError(f"{lock_path}: no lock file, so there are no digests to install by",
                             hint=f"run `tke-catalog publish --registry {registry}` first")
        lock = json.loads(read_text(lock_path))
        if parse_oci_reference(str(lock.get("registry", ""))) != parse_oci_reference(registry):
            raise InputError(f"{lock_path} pins charts published to {lock.get('registry')}, not {registry}",
                             hint=f"publish to {registry} first, or pass --registry {lock.get('registry')}")
        for entry in lock.get("charts", []):
            pins.setdefault(str(entry["name"]), []).append(entry)
    return ChainedChartSource([RegistryChartSource(connect, cache, pinned_registry=registry, pins=pins),
                               CatalogChartSource(root, cache)])

"""`deps update` and `deps build`: a chart's dependencies fetched into its `charts/`, as helm's
`helm dependency update|build` does, with helm's Chart.lock.

`update` resolves every version range (file:// folders, OCI registries, classic HTTP repositories)
and writes Chart.lock; `build` fetches exactly what Chart.lock pins and refuses a lock that Chart.yaml
no longer matches. Everything is fetched and verified before anything is written (OCI by manifest and
layer digest, HTTP by the index's digest), so a failure leaves `charts/` and Chart.lock as they were.
Archives of other charts in `charts/` are removed, as helm does; subchart folders are kept.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from toolkit.adapters.files import read_bytes, read_text, write_atomic
from toolkit.core.dependencies import (
    FILE,
    LOCAL,
    OCI,
    IndexEntry,
    Locked,
    Requirement,
    archive_name,
    file_dependency_path,
    lock_digest,
    parse_lock,
    parse_repo_index,
    pick_version,
    render_lock,
    requirements,
)
from toolkit.core.oci_reference import version_for_tag
from toolkit.errors import InputError, RegistryError

__all__ = ["DependencyFetcher", "DepsResult", "build_dependencies", "charts_with_dependencies", "folder_archiver",
           "update_dependencies"]

LOCK_FILE = "Chart.lock"


class DependencyFetcher(Protocol):
    """Where remote dependencies come from (the network adapter, or a recording fake)."""

    def oci_versions(self, repository: str, name: str) -> list[str]: ...
    def oci_archive(self, repository: str, name: str, version: str) -> bytes: ...
    def http_get(self, url: str) -> bytes: ...


@dataclass(frozen=True)
class FetchedDependency:
    name: str
    version: str
    repository: str
    archive: str  # the file in charts/ ("" for a subchart folder already there)
    digest: str
    previous: str = ""  # the version Chart.lock pinned before ("" when it did not list the dependency)

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "previous": self.previous,
                "repository": self.repository, "archive": self.archive, "digest": self.digest}


@dataclass(frozen=True)
class DepsResult:
    chart: str
    lock_file: str
    lock_written: bool
    dependencies: tuple[FetchedDependency, ...]
    removed: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"chart": self.chart, "lockFile": self.lock_file, "lockWritten": self.lock_written,
                "dependencies": [d.as_dict() for d in self.dependencies], "removed": list(self.removed)}


@dataclass
class _Fetch:
    folder: Path
    fetcher: DependencyFetcher
    build_folder: Callable[[Path], tuple[str, bytes]]  # a file:// chart folder -> (version, archive)
    indexes: dict[str, dict[str, list[IndexEntry]]] = field(default_factory=dict)

    def index(self, repository: str) -> dict[str, list[IndexEntry]]:
        if repository not in self.indexes:
            url = repository.rstrip("/") + "/index.yaml"
            text = self.fetcher.http_get(url).decode("utf-8", "replace")
            self.indexes[repository] = parse_repo_index(text, repository.rstrip("/"))
        return self.indexes[repository]

    def versions(self, req: Requirement) -> list[str]:
        if req.kind == OCI:
            return [version_for_tag(t) for t in self.fetcher.oci_versions(req.repository, req.name)]
        return [entry.version for entry in self.index(req.repository).get(req.name, [])]

    def archive(self, req: Requirement, version: str) -> bytes:
        if req.kind == OCI:
            return self.fetcher.oci_archive(req.repository, req.name, version)
        entry = next((e for e in self.index(req.repository).get(req.name, []) if e.version == version), None)
        if entry is None:
            raise InputError(f"dependency {req.label()}: version {version} is not in {req.repository}/index.yaml",
                             hint="run `tke-catalog deps update` to lock a version the repository has")
        data = self.fetcher.http_get(entry.url)
        if entry.digest and hashlib.sha256(data).hexdigest() != entry.digest.removeprefix("sha256:"):
            raise RegistryError(f"{entry.url}: the archive's sha256 is not the index's {entry.digest}",
                                hint="the repository serves a different archive than it lists; nothing was written")
        return data

    def local(self, req: Requirement) -> tuple[str, bytes]:
        target = (self.folder / file_dependency_path(req)).resolve()
        if not (target / "Chart.yaml").is_file():
            raise InputError(f"dependency {req.label()}: {target} holds no Chart.yaml",
                             hint="point `repository: file://...` at a chart folder, relative to this chart")
        return self.build_folder(target)


def _resolve(fetch: _Fetch, req: Requirement, pinned: str | None) -> tuple[Locked, str, bytes | None]:
    """The locked entry, the archive's file name and bytes (None for a folder already in charts/)."""
    if req.kind == LOCAL:
        if not (fetch.folder / "charts" / req.name / "Chart.yaml").is_file():
            raise InputError(f"dependency {req.label()}: no repository, and charts/{req.name}/ is not a chart",
                             hint="name a repository, or put the chart folder into charts/")
        return Locked(req.name, req.version, ""), "", None
    if req.kind == FILE:
        version, archive = fetch.local(req)
        pick_version(req, [version], req.repository)
        if pinned is not None and pinned != version:
            raise InputError(f"dependency {req.label()}: Chart.lock pins {pinned}, the folder holds {version}",
                             hint="run `tke-catalog deps update` to lock the folder's version")
        return Locked(req.name, version, req.repository), archive_name(req.name, version), archive
    version = pinned if pinned is not None else pick_version(req, fetch.versions(req), req.repository)
    return Locked(req.name, version, req.repository), archive_name(req.name, version), fetch.archive(req, version)


def _chart_yaml(folder: Path) -> bytes:
    return read_bytes(folder / "Chart.yaml")


def update_dependencies(folder: Path, fetcher: DependencyFetcher, *, build_folder: Callable[[Path], tuple[str, bytes]],
                        epoch: int) -> DepsResult:
    """Resolve each range to the highest version there, fetch, write charts/ and Chart.lock."""
    reqs = requirements(_chart_yaml(folder), f"{folder}/Chart.yaml")
    fetch = _Fetch(folder, fetcher, build_folder)
    return _materialize(folder, reqs, [_resolve(fetch, req, None) for req in reqs], epoch)


def build_dependencies(folder: Path, fetcher: DependencyFetcher, *, build_folder: Callable[[Path], tuple[str, bytes]],
                       epoch: int) -> DepsResult:
    """Fetch exactly what Chart.lock pins (no lock: as `update`); a lock out of sync is refused."""
    lock_path = folder / LOCK_FILE
    if not lock_path.is_file():
        return update_dependencies(folder, fetcher, build_folder=build_folder, epoch=epoch)
    reqs = requirements(_chart_yaml(folder), f"{folder}/Chart.yaml")
    digest, locked = parse_lock(read_text(lock_path), str(lock_path))
    if lock_digest(reqs, locked) != digest:
        raise InputError(f"{lock_path} is out of sync with the dependencies in Chart.yaml",
                         hint="run `tke-catalog deps update` (helm: \"Please update the dependencies\")")
    pins = {entry.name: entry.version for entry in locked}
    fetch = _Fetch(folder, fetcher, build_folder)
    return _materialize(folder, reqs, [_resolve(fetch, req, pins.get(req.name)) for req in reqs], epoch)


def _materialize(folder: Path, reqs: Sequence[Requirement], resolved: Sequence[tuple[Locked, str, bytes | None]],
                 epoch: int) -> DepsResult:
    """Write what was fetched: new archives, stale ones removed, Chart.lock when its content changed."""
    charts = folder / "charts"
    wanted = {name: data for _, name, data in resolved if data is not None}
    stale = sorted(p.name for p in charts.glob("*.tgz") if p.name not in wanted) if charts.is_dir() else []
    for name, data in wanted.items():
        target = charts / name
        if not target.is_file() or target.read_bytes() != data:
            write_atomic(target, data, mtime=epoch)
    for name in stale:
        (charts / name).unlink()
    locked = [entry for entry, _, _ in resolved]
    digest = lock_digest(reqs, locked)
    lock_path = folder / LOCK_FILE
    before = {entry.name: entry.version for entry in _old_lock(lock_path)[1]}
    written = _write_lock(lock_path, locked, digest, reqs)
    fetched = tuple(FetchedDependency(entry.name, entry.version, entry.repository, name,
                                      "sha256:" + hashlib.sha256(data).hexdigest() if data is not None else "",
                                      before.get(entry.name, ""))
                    for entry, name, data in resolved)
    return DepsResult(str(folder), str(lock_path), written, fetched, tuple(stale))


def _old_lock(lock_path: Path) -> tuple[str, list[Locked]]:
    """The lock there before (digest and entries), empty when there is none or it is unreadable."""
    if not lock_path.is_file():
        return "", []
    try:
        return parse_lock(read_text(lock_path), str(lock_path))
    except InputError:
        return "", []


def _write_lock(lock_path: Path, locked: Sequence[Locked], digest: str, reqs: Sequence[Requirement]) -> bool:
    """Write Chart.lock unless the one there pins the same (its `generated` time is then kept)."""
    if not reqs:
        return False
    old_digest, old = _old_lock(lock_path)
    if old_digest == digest and old == list(locked):
        return False
    generated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_atomic(lock_path, render_lock(locked, digest, generated).encode())
    return True



def folder_archiver(epoch: int) -> Callable[[Path], tuple[str, bytes]]:
    """How a `file://` dependency is packaged: our reproducible build of the folder (version, archive)."""
    from toolkit.actions.build import build_charts

    def archive(folder: Path) -> tuple[str, bytes]:
        (chart,) = build_charts([folder], epoch=epoch, metadata_only=True)
        return chart.version, chart.archive
    return archive


def charts_with_dependencies(charts_dir: Path) -> list[Path]:
    """The catalog's chart folders whose Chart.yaml declares dependencies."""
    from toolkit.adapters.project import find_chart_dirs
    from toolkit.core.yamldoc import fast_load_plain

    found = []
    for folder in find_chart_dirs(charts_dir):
        meta = fast_load_plain(read_text(folder / "Chart.yaml"))
        if isinstance(meta, dict) and meta.get("dependencies"):
            found.append(folder)
    return found

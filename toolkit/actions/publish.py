"""`publish`: push built charts to an OCI registry, idempotently, safely and in parallel.

For each chart: HEAD its tag. Same manifest digest → `skipped`. Another digest → the registry's copy is
fetched and compared (same metadata and files: a different zlib or a `helm package` + `helm push` of
the same chart is still "unchanged"); another chart → `failed` with a VersionConflict, unless `force`. Absent → the config and
chart blobs the registry lacks are uploaded, then the manifest LAST, so an interrupted publish never
leaves a tag pointing at missing blobs. `dry_run` only reads: it doubles as the "did you bump the
version?" check in CI. A lock file records what each tag points at, for plan/apply to pin to.

An unchanged re-publish does no packaging: the lock also records each chart's fingerprint (the content
digest of the files helm would pack, with the archive's epochs); a chart whose folder still has that
fingerprint is one HEAD of its tag, and when the tag still points at the locked digest it is skipped
without building or reading any archive. Anything else takes the full path above.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from toolkit.actions.build import (
    BuiltChart,
    NamedByPackage,
    archive_of,
    build_charts,
    load_charts,
)
from toolkit.adapters.files import read_bytes, write_atomic
from toolkit.adapters.registry.client import ChartRegistry
from toolkit.core.archive import content_digest, publish_fingerprint
from toolkit.core.archive_reader import MAX_CHART_BYTES, read_chart_archive
from toolkit.core.chart import ChartPackage
from toolkit.core.oci_artifact import (
    ChartArtifact,
    chart_artifact,
    parse_chart_manifest,
)
from toolkit.core.oci_reference import OciReference, tag_for_version
from toolkit.core.same_chart import comparable_files
from toolkit.errors import InputError, ToolkitError, VersionConflict

__all__ = [
    "LOCK_FILE",
    "ChartPublish",
    "PublishAction",
    "PublishResult",
    "merge_lock",
    "PendingChart",
    "package_charts",
    "pending_charts",
    "publish",
    "read_lock",
    "write_lock",
]

LOCK_FILE = "catalog.lock"


class PublishAction(str, Enum):
    PUSHED = "pushed"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class ChartPublish:
    """What happened to one chart. `digest` is the manifest digest the tag points at (or would)."""

    name: str
    version: str
    action: PublishAction
    digest: str
    repository: str
    note: str = ""
    error: ToolkitError | None = field(default=None, compare=False)
    uploaded_blobs: int = 0
    fingerprint: str = ""  # of the folder published (recorded in the lock for the next re-publish)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "version": self.version, "digest": self.digest,
                                "action": self.action.value}
        if self.note:
            data["note"] = self.note
        if self.error is not None:
            data["error"] = str(self.error)
        return data


@dataclass(frozen=True)
class PublishResult:
    registry: OciReference
    charts: tuple[ChartPublish, ...]
    dry_run: bool = False

    @property
    def failed(self) -> list[ChartPublish]:
        return [c for c in self.charts if c.action is PublishAction.FAILED]

    def as_dict(self) -> dict[str, Any]:
        counts = {action: sum(1 for c in self.charts if c.action is action) for action in PublishAction}
        data: dict[str, Any] = {
            "ok": not counts[PublishAction.FAILED],
            "summary": {"pushed": counts[PublishAction.PUSHED], "unchanged": counts[PublishAction.SKIPPED],
                        "failed": counts[PublishAction.FAILED]},
            "registry": str(self.registry), "charts": [c.as_dict() for c in self.charts]}
        if self.dry_run:
            data["dryRun"] = True
        return data



def package_charts(folders: Sequence[Path], *, epoch: int, cache: Path | None = None) -> list[BuiltChart]:
    """The same archives as `build_charts`, parsing only Chart.yaml (validating values is lint's job) and
    reusing cached archives."""
    return build_charts(folders, epoch=epoch, metadata_only=True, cache=cache)


@dataclass(frozen=True)
class PendingChart(NamedByPackage):
    """A chart folder read but not packaged: its archive is built only if the registry needs it.
    `locked` is the digest the lock recorded for this very content (fingerprint), if any."""

    package: ChartPackage
    fingerprint: str
    epoch: int
    cache: Path | None = None
    locked: str | None = None

    def build(self) -> BuiltChart:
        return archive_of(self.package, self.epoch, self.cache)


def pending_charts(folders: Sequence[Path], *, epoch: int, created_epoch: int, lock: dict[str, Any] | None,
                   registry: OciReference, cache: Path | None = None) -> list[PendingChart]:
    """The charts to publish, with the lock's digest where the folder's fingerprint matches the one the
    lock recorded for this registry (a lock of another registry is no help)."""
    recorded: dict[tuple[str, str], dict[str, Any]] = {}
    if lock and lock.get("registry") == str(registry):
        for entry in lock.get("charts") or []:
            if isinstance(entry, dict) and entry.get("fingerprint"):
                recorded[(str(entry.get("name")), str(entry.get("version")))] = entry
    pending = []
    for package in load_charts(folders, metadata_only=True):
        fingerprint = publish_fingerprint(package.content_digest, epoch, created_epoch)
        entry = recorded.get((package.name, package.version))
        locked = str(entry["digest"]) if entry and entry.get("fingerprint") == fingerprint else None
        pending.append(PendingChart(package, fingerprint, epoch, cache, locked))
    return pending


def _same_chart(registry: ChartRegistry, repository: str, artifact: ChartArtifact, chart: BuiltChart) -> bool:
    """Whether the registry's copy of this tag is the same chart: the same metadata (config blob) and
    the same files however packaged (`helm package` rewrites Chart.yaml and unpacks subchart archives),
    whatever the archive bytes."""
    manifest_bytes, _ = registry.get_manifest(repository, artifact.tag)
    manifest = parse_chart_manifest(manifest_bytes, f"{repository}:{artifact.tag}")
    if manifest.config.digest != artifact.config_descriptor.digest:
        return False
    layer = registry.get_blob(repository, manifest.chart.digest, max_bytes=MAX_CHART_BYTES)
    _, files = read_chart_archive(layer, f"{repository}:{artifact.tag}")
    where = f"{repository}:{artifact.tag}"
    ours = comparable_files(chart.package.files, chart.package.source)
    return content_digest(comparable_files(files, where)) == content_digest(ours)


def _publish_one(chart: BuiltChart | PendingChart, *, registry: ChartRegistry, target: OciReference,
                 created_epoch: int, force: bool, dry_run: bool) -> ChartPublish:
    repository = target.repository(chart.name)
    if not isinstance(chart, PendingChart):
        return _publish_built(chart, registry=registry, target=target, created_epoch=created_epoch, force=force,
                              dry_run=dry_run, fingerprint="", remote=None)
    remote: str | None = None
    if chart.locked is not None:  # one HEAD: is the tag still what the lock says this content is?
        try:
            remote = registry.manifest_digest(repository, tag_for_version(chart.version))
        except ToolkitError as exc:
            return ChartPublish(chart.name, chart.version, PublishAction.FAILED, chart.locked, repository,
                                error=exc, fingerprint=chart.fingerprint)
        if remote == chart.locked:
            return ChartPublish(chart.name, chart.version, PublishAction.SKIPPED, remote, repository, "unchanged",
                                fingerprint=chart.fingerprint)
    fingerprint = chart.fingerprint
    return _publish_built(chart.build(), registry=registry, target=target, created_epoch=created_epoch, force=force,
                          dry_run=dry_run, fingerprint=fingerprint, remote=remote)


def _publish_built(chart: BuiltChart, *, registry: ChartRegistry, target: OciReference, created_epoch: int,
                   force: bool, dry_run: bool, fingerprint: str, remote: str | None) -> ChartPublish:
    repository = target.repository(chart.name)
    artifact = chart_artifact(chart.archive, chart.package.files["Chart.yaml"], created_epoch=created_epoch)

    def result(action: PublishAction, digest: str = artifact.digest, note: str = "",
               error: ToolkitError | None = None, uploaded: int = 0) -> ChartPublish:
        return ChartPublish(chart.name, chart.version, action, digest, repository, note, error, uploaded, fingerprint)

    try:
        if remote is None:
            remote = registry.manifest_digest(repository, artifact.tag)
        note = ""
        if remote == artifact.digest:
            return result(PublishAction.SKIPPED, note="unchanged")
        if remote is not None:
            try:
                same = _same_chart(registry, repository, artifact, chart)
            except ToolkitError:
                if not force:  # the tag holds something we cannot read (not a chart?): say so
                    raise
                same = False
            if same:
                return result(PublishAction.SKIPPED, remote, "same chart, other archive bytes")
            if not force:
                conflict = VersionConflict(
                    f"{chart.name} {chart.version}: {target}/{chart.name}:{artifact.tag} already holds other "
                    f"content (registry {remote}, ours {artifact.digest})",
                    hint=f"bump `version` in {chart.package.source}/Chart.yaml (released versions are "
                         "immutable), or pass --force to overwrite")
                return result(PublishAction.FAILED, remote, error=conflict)
            note = f"overwrote {remote}"
        if dry_run:
            return result(PublishAction.PUSHED, note=note or "would push")
        uploaded = 0
        for descriptor, data in artifact.blobs():
            if not registry.has_blob(repository, descriptor.digest):
                registry.upload_blob(repository, descriptor.digest, data)
                uploaded += 1
        digest = registry.put_manifest(repository, artifact.tag, artifact.manifest)  # last: the tag appears only now
        return result(PublishAction.PUSHED, digest, note, uploaded=uploaded)
    except ToolkitError as exc:
        return result(PublishAction.FAILED, error=exc)


def publish(charts: Sequence[BuiltChart | PendingChart], *, registry: ChartRegistry, target: OciReference,
            created_epoch: int, force: bool = False, dry_run: bool = False, jobs: int = 4,
            progress: Callable[[ChartPublish], None] | None = None) -> PublishResult:
    """Publish each chart (in parallel with `jobs` workers) and report each one's outcome in input order.

    Credentials and reachability are checked once up front (`registry.ping()`), so a wrong password
    fails the run at once instead of once per chart. `progress` is called as each chart finishes.
    """
    registry.ping()

    def run(chart: BuiltChart | PendingChart) -> ChartPublish:
        outcome = _publish_one(chart, registry=registry, target=target, created_epoch=created_epoch,
                               force=force, dry_run=dry_run)
        if progress is not None:
            progress(outcome)
        return outcome

    if jobs <= 1 or len(charts) <= 1:
        outcomes = [run(chart) for chart in charts]
    else:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="publish") as pool:
            outcomes = list(pool.map(run, charts))
    return PublishResult(target, tuple(outcomes), dry_run)


# --- the lock file ---------------------------------------------------------------------------------

def merge_lock(previous: dict[str, Any] | None, result: PublishResult) -> dict[str, Any]:
    """The lock after this publish: previous entries for the same registry, updated with every chart
    whose tag now points at a known digest (pushed or skipped). Another registry starts a new lock."""
    registry = str(result.registry)
    entries: dict[tuple[str, str], dict[str, str]] = {}
    if previous and previous.get("registry") == registry:
        for entry in previous.get("charts") or []:
            if isinstance(entry, dict) and {"name", "version", "digest"} <= entry.keys():
                kept = {key: str(entry[key]) for key in ("name", "version", "digest", "fingerprint") if entry.get(key)}
                entries[(str(entry["name"]), str(entry["version"]))] = kept
    for chart in result.charts:
        if chart.action is not PublishAction.FAILED and not (result.dry_run and chart.action is PublishAction.PUSHED):
            entry = {"name": chart.name, "version": chart.version, "digest": chart.digest}
            if chart.fingerprint:
                entry["fingerprint"] = chart.fingerprint
            entries[(chart.name, chart.version)] = entry
    return {"registry": registry, "charts": [entries[key] for key in sorted(entries)]}


def read_lock(path: Path) -> dict[str, Any] | None:
    """The lock file at `path`, or None when there is none; a lock that is not JSON is an InputError."""
    if not path.exists():
        return None
    try:
        loaded = json.loads(read_bytes(path))
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON", hint="fix the lock file or delete it to start over") from exc
    return loaded if isinstance(loaded, dict) else None


def write_lock(path: Path, result: PublishResult, *, replace_other: bool = True) -> dict[str, Any] | None:
    """Merge this publish into the lock file at `path` and write it atomically; returns what was written.
    A lock of another registry is replaced only with `replace_other` (the user named the file): else it
    is left as it is and None comes back (publishing a custom chart elsewhere must not empty the
    catalog's lock)."""
    previous = read_lock(path)
    if previous and previous.get("registry") not in (None, str(result.registry)) and not replace_other:
        return None
    lock = merge_lock(previous, result)
    write_atomic(path, (json.dumps(lock, indent=2) + "\n").encode())
    return lock

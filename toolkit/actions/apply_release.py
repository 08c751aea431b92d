"""One release of an apply, fenced by the Cluster's Lease: install or upgrade (ownership marked on helm's
own record in the same write), undo after a failure, uninstall, record in the inventory, refuse a
release tke-catalog does not own, and recover releases an interrupted run left pending.

Every write (a helm action, an inventory update) comes right after `lock.ensure_held()`: once the Lease
is deleted or taken, the next write fails with LeaseLost instead of racing another apply.
"""

from __future__ import annotations

import contextlib
import datetime
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.actions.apply_result import ApplyOptions, Outcome
from toolkit.actions.apply_wait import StallWatch
from toolkit.actions.takeover import REPLACED, delete_recreated, delete_replaced
from toolkit.adapters.chart_folder import load_chart_folder
from toolkit.adapters.files import read_bytes, write_atomic
from toolkit.adapters.helm import HelmLike, ReleaseInfo
from toolkit.adapters.kube.lock import holder_is_dead
from toolkit.core.archive import build_chart_archive
from toolkit.core.archive_reader import read_chart_archive
from toolkit.core.chart import parse_chart
from toolkit.core.crd_policy import (
    CrdPolicy,
    chart_crds,
    crd_established,
    crd_policy,
    crd_step,
    crds_to_wait_for,
    with_digest,
)
from toolkit.core.duration import duration_seconds
from toolkit.core.helm_release import (
    HOLDER_LABEL,
    OWNER_LABEL,
    DeployedRelease,
    holder_label,
)
from toolkit.core.model import Action, PlannedRelease
from toolkit.errors import (
    ClusterError,
    ConflictError,
    HelmError,
    InputError,
    LeaseLost,
    OperationalError,
)

if TYPE_CHECKING:
    from toolkit.actions.session import (
        ClusterLock,
        CustomResourceDefinitions,
        InventoryStore,
        ReleaseRecords,
    )

__all__ = ["NotRecorded", "ReleaseWork", "chart_folder", "recover_pending"]

def chart_folder(release: PlannedRelease, root: Path) -> Path | None:
    """The catalog chart folder a planned release comes from, or None (a registry chart)."""
    if not release.source or release.source.startswith("oci://"):
        return None
    folder = root / release.source
    return folder if (folder / "Chart.yaml").is_file() else None


_PENDING = frozenset({"pending-install", "pending-upgrade", "pending-rollback"})
_RECORD_TRIES = 3


class NotRecorded(OperationalError):
    """helm applied the release but the inventory write kept failing: installed, not recorded."""


def describe_apply(cluster: str, holder: str) -> str:
    """helm's description of the revisions we make: who (which apply, which Lease holder) made them."""
    return f"tke-catalog apply ({cluster}) by {holder}" if holder else f"tke-catalog apply ({cluster})"


def _other_live_apply(record: DeployedRelease | None, holder: str, now: datetime.datetime,
                      grace: datetime.timedelta) -> str | None:
    """The holder of another apply that made this pending revision recently (so may still be running)."""
    if record is None or not record.holder or record.holder == holder_label(holder):
        return None
    other = record.holder
    if holder_is_dead(other):
        return None  # a killed apply on this machine: its leftover is ours to recover
    when = _timestamp(record.last_deployed)
    if when is None:
        return other  # a pending revision we cannot date: assume it may still be running
    return other if now - when < grace else None


def _timestamp(text: str) -> datetime.datetime | None:
    """helm's RFC 3339 time (nanoseconds, `Z` or an offset) as an aware datetime."""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", text.strip())
    if not match:
        return None
    fraction = (match.group(2) or ".0")[:7]
    zone = match.group(3) or "Z"
    return datetime.datetime.fromisoformat(match.group(1) + fraction + ("+00:00" if zone == "Z" else zone))


def recover_pending(helm: HelmLike, releases: list[ReleaseInfo], *, timeout: str, progress: Callable[[str], None],
                    lock: ClusterLock | None = None, deployed: Mapping[tuple[str, str], DeployedRelease] | None = None,
                    now: datetime.datetime | None = None, busy: dict[str, str] | None = None) -> list[str]:
    """Releases stuck `pending-*` by an interrupted run: roll back an upgrade, remove a first install.

    A pending revision another apply made within the helm timeout (plus a Lease term) is left alone:
    that apply may still be running its helm, and lost the Lease only to us."""
    recovered = []
    holder = getattr(lock, "identity", "")
    grace = datetime.timedelta(seconds=(duration_seconds(timeout) or 300.0) + 60)
    for info in releases:
        stuck = info.status in _PENDING or (info.status == "failed" and info.revision == 1)
        if not stuck:
            continue
        other = _other_live_apply((deployed or {}).get((info.namespace, info.name)), holder,
                                  now or datetime.datetime.now(datetime.timezone.utc), grace)
        if other is not None and info.status in _PENDING:
            progress(f"{info.namespace}/{info.name}: {info.status}, made moments ago by another apply ({other}); "
                     "left to it")
            if busy is not None:
                busy[info.name] = other
            continue
        if lock is not None:
            lock.ensure_held()
        if info.revision <= 1:
            progress(f"{info.namespace}/{info.name}: {info.status} at revision 1, removing it before a clean install")
            helm.uninstall(info.name, info.namespace, timeout=timeout)
        else:
            progress(f"{info.namespace}/{info.name}: {info.status} at revision {info.revision}, rolling back")
            helm.rollback(info.name, info.namespace, None, timeout=timeout)
        recovered.append(f"{info.namespace}/{info.name}")
    return recovered


@dataclass
class ReleaseWork:
    """What one apply needs to work on its releases; `work(name)` runs one release."""

    helm: HelmLike
    inventory: InventoryStore
    root: Path
    cache: Path
    options: ApplyOptions
    progress: Callable[[str], None]
    cluster: str
    planned: dict[str, PlannedRelease]
    lock: ClusterLock | None = None
    records: ReleaseRecords | None = None
    recorded: frozenset[str] = frozenset()  # namespace/name of what the inventory held when planning
    busy: Mapping[str, str] = field(default_factory=dict)  # release → the other live apply working on it
    crds: CustomResourceDefinitions | None = None  # the cluster's CRDs, for the charts' crd-policy
    _namespaces: dict[str, bool | None] = field(default_factory=dict)

    def _fence(self) -> None:
        if self.lock is not None:
            self.lock.ensure_held()

    def work(self, key: str) -> Outcome:
        release = self.planned[key]
        if release.name in self.busy and release.action is not Action.NOOP:
            raise OperationalError(f"release {release.namespace}/{release.name} is being changed by another apply "
                                   f"({self.busy[release.name]}); left to it",
                                   hint="re-run apply once that one has finished")
        if release.action is Action.CONFLICT:
            raise ConflictError(f"release {release.namespace}/{release.name} exists and tke-catalog did not install "
                                f"it ({release.foreign}); left untouched",
                                hint=f"to take it over (its values become the plan's), pass --take-over {release.name} "
                                     "or set takeOver: true on the app")
        if release.action is Action.NOOP:
            if f"{release.namespace}/{release.name}" not in self.recorded:
                self._record(release, revision=None)  # ours by its mark, missing from a lost inventory
                return Outcome.RECORDED
            return Outcome.UNCHANGED
        if release.action is Action.UNINSTALL:
            return self._uninstall(release)
        return self._install(release)

    def _archive_for(self, release: PlannedRelease) -> Path:
        """The chart archive to install, never a mutable tag: the copy fetched from a registry and
        verified by digest while planning, else one built from the chart folder; both cached by digest."""
        from toolkit.actions.registry_source import cached_archive_path

        target = cached_archive_path(self.cache, release.chart, release.version, release.digest)
        if target.is_file():
            return target
        folder = chart_folder(release, self.root)
        if folder is None:
            raise InputError(f"release {release.name}: chart {release.chart} {release.version} is not on disk",
                             hint="run from the project folder (or pass --root)")
        package = load_chart_folder(folder)
        if package.content_digest != release.digest:
            raise InputError(f"release {release.name}: chart folder {folder} changed since planning",
                             hint="plan again")
        write_atomic(target, build_chart_archive(package.name, package.files))
        return target

    def _create_namespace(self, namespace: str) -> bool:
        """Pass --create-namespace only when the namespace is missing (a user allowed only in their own
        namespace can neither see nor create others: then helm is left to work as plain helm would)."""
        if self.records is None:
            return True
        if namespace not in self._namespaces:
            try:
                self._namespaces[namespace] = self.records.namespace_exists(namespace)
            except ClusterError:
                self._namespaces[namespace] = None
        return self._namespaces[namespace] is False

    def _install(self, release: PlannedRelease) -> Outcome:
        chart = self._archive_for(release)
        self.progress(f"{release.name}: {release.action.value} {release.chart} {release.version}")
        create = self._create_namespace(release.namespace)
        self._apply_crds(release, chart)
        self._fence()
        if self.records is not None:
            delete_recreated(self.records, self.helm, release, chart, self.progress)
        watch = StallWatch(self.records, release, self.progress) if self.options.wait and self.records else None
        try:
            with watch or contextlib.nullcontext():
                answer = self.helm.upgrade_install(
                    release.name, chart, release.namespace, dict(release.values), wait=self.options.wait,
                    timeout=self.options.timeout,
                    description=describe_apply(self.cluster, getattr(self.lock, "identity", "")),
                    labels=self._labels(), create_namespace=create, take_ownership=bool(release.adopts))
        except HelmError as exc:
            self._undo(release)
            stalled = watch.report if watch is not None else []
            if stalled:  # what the API said was not ready when helm gave up, not just helm's deadline
                raise OperationalError(f"{exc.message}\n  not ready when helm gave up: " + "\n    ".join(stalled),
                                       hint="fix what is named above (or raise --timeout), then re-run apply") from exc
            raise OperationalError(exc.message, hint=exc.hint) from exc
        revision = answer.get("version") if isinstance(answer, dict) else None
        self._record(release, revision=int(revision) if isinstance(revision, int) else None)
        if self.records is not None and any(entry.endswith(REPLACED) for entry in release.adopts):
            from toolkit.adapters.project import load_catalog

            delete_replaced(self.records, release, load_catalog(self.root), self.progress, self._fence)
        return Outcome.INSTALLED if release.action is Action.INSTALL else Outcome.UPGRADED

    def _wait_for_crds(self, release: PlannedRelease, names: list[str]) -> None:
        """Wait (up to --timeout) until the CRDs the chart's objects need, which something else registers
        at run time (an operator's first start), are established."""
        assert self.crds is not None
        deadline = time.monotonic() + (duration_seconds(self.options.timeout) or 300.0)
        waiting = [name for name in names if not crd_established(self.crds.get(name))]
        if waiting:
            self.progress(f"{release.name}: waiting for CRD {', '.join(waiting)} (up to {self.options.timeout})")
        while waiting:
            if time.monotonic() > deadline:
                raise OperationalError(
                    f"release {release.namespace}/{release.name}: CRD {', '.join(waiting)} not registered after "
                    f"{self.options.timeout}; the release needs it and was not installed",
                    hint="the component that registers it (for Cilium's BGP kinds, cilium-operator) must be running: "
                         "check its pods, then apply again (or raise --timeout)")
            time.sleep(1.0)
            self._fence()
            waiting = [name for name in waiting if not crd_established(self.crds.get(name))]

    def _apply_crds(self, release: PlannedRelease, archive: Path) -> None:
        """Carry out the chart's crd-policy before helm runs (helm itself only creates `crds/` once), and
        wait for the CRDs it needs that others register. Every refusal is checked before anything is
        written, so a refused release changes nothing."""
        if self.crds is None:
            return
        _, files = read_chart_archive(read_bytes(archive), str(archive))
        package = parse_chart(files, str(archive), metadata_only=True)
        needed = crds_to_wait_for(package.metadata)
        if needed:
            self._wait_for_crds(release, needed)
        policy = crd_policy(package.metadata, f"chart {release.chart} {release.version}")
        if policy not in (CrdPolicy.CREATE, CrdPolicy.CREATE_REPLACE):
            return
        wanted = chart_crds(files, str(archive))
        steps = []
        for crd in wanted:
            live = self.crds.get(str(crd["metadata"]["name"]))
            steps.append((crd, live, crd_step(crd, live, policy)))
        refused = [step for _, _, step in steps if step.action == "refuse"]
        if refused:
            raise ConflictError(f"release {release.namespace}/{release.name}: CRD {refused[0].name} not upgraded: "
                                f"{refused[0].reason}; the release was left as it is",
                                hint="migrate the stored objects to a version the new chart keeps (then remove the "
                                     "old one from status.storedVersions), or stay on the current chart line")
        for crd, live, step in steps:
            if step.action == "keep":
                continue
            self._fence()
            if step.action == "create":
                self.crds.create(with_digest(crd))
            else:
                assert live is not None
                self.crds.replace(with_digest(crd), str(live["metadata"]["resourceVersion"]))
            self.progress(f"{release.name}: CRD {step.name} {step.action}d ({step.reason})")

    def _labels(self) -> dict[str, str]:
        """Our marks on the revision helm writes: the Cluster that owns it, the apply that made it."""
        labels = {OWNER_LABEL: self.cluster}
        identity = getattr(self.lock, "identity", "")
        if identity:
            labels[HOLDER_LABEL] = holder_label(identity)
        return labels

    def _record(self, release: PlannedRelease, *, revision: int | None) -> None:
        """Write the inventory entry, retrying; NotRecorded when it keeps failing (helm already acted)."""
        entry: dict[str, Any] = {"name": release.name, "namespace": release.namespace, "chart": release.chart,
                                 "version": release.version, "digest": release.digest, "values": dict(release.values),
                                 "status": "deployed", "app": release.app}
        if revision is not None:
            entry["revision"] = revision
        last: OperationalError | None = None
        for attempt in range(_RECORD_TRIES):
            self._fence()
            try:
                self.inventory.record(entry)
                return
            except OperationalError as exc:
                last = exc
                time.sleep(0.5 * (attempt + 1))
        assert last is not None
        raise NotRecorded(f"release {release.namespace}/{release.name} was applied, but the inventory could not be "
                          f"updated ({last.message})",
                          hint="re-run apply: it finds the release by its ownership mark and records it")

    def _made_by_us(self, release: PlannedRelease) -> bool:
        """Whether the newest revision of the release is one this apply wrote: a failure before helm
        wrote one (another operation in progress) leaves someone else's revision, never ours to undo."""
        if self.records is None or self.lock is None:
            return True
        try:
            newest = self.records.deployed({release.namespace}).get((release.namespace, release.name))
        except ClusterError:
            return False
        if newest is None:
            return release.action is not Action.INSTALL
        return newest.holder == holder_label(getattr(self.lock, "identity", ""))

    def _undo(self, release: PlannedRelease) -> None:
        """After a failed install or upgrade: remove a first install, roll an upgrade back (only when the
        failed revision is ours)."""
        if not self._made_by_us(release):
            self.progress(f"{release.name}: the newest revision is not this apply's; nothing to undo")
            return
        try:
            self._fence()
            if release.action is Action.INSTALL and release.adopts:
                # uninstalling would delete the objects it adopted, which existed before (kube-dns, Galaxy)
                self.progress(f"{release.name}: install failed; kept, since removing it would delete the objects "
                              "it adopted: fix the cause and apply again (the release is ours and gets upgraded)")
            elif release.action is Action.INSTALL:
                self.progress(f"{release.name}: install failed, removing it")
                self.helm.uninstall(release.name, release.namespace, timeout=self.options.timeout)
            else:
                self.progress(f"{release.name}: upgrade failed, rolling back")
                self.helm.rollback(release.name, release.namespace, None, timeout=self.options.timeout,
                                   wait=self.options.wait)
        except LeaseLost:
            self.progress(f"{release.name}: the Lease is lost; not cleaning up (the new holder recovers it)")
            raise
        except (HelmError, ClusterError) as exc:
            self.progress(f"{release.name}: clean-up after the failure failed too: {exc.message}")

    def _uninstall(self, release: PlannedRelease) -> Outcome:
        if not self.options.prune:
            self.progress(f"{release.name}: no longer wanted; kept (pass --prune to uninstall)")
            return Outcome.KEPT
        self.progress(f"{release.name}: uninstall")
        self._fence()
        self.helm.uninstall(release.name, release.namespace, timeout=self.options.timeout, wait=self.options.wait)
        self._fence()
        self.inventory.forget(release.namespace, release.name)
        return Outcome.UNINSTALLED

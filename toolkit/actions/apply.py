"""`apply`: make the cluster match the release plan, one release at a time, safely.

Under the Cluster's Lease: read what is installed (helm's release list plus our inventory), recover
releases an interrupted run left `pending-*`, plan (or check a saved plan still matches), confirm, then
run every install and upgrade as soon as its own dependencies succeeded. A failed release is rolled
back (or removed if it was a first install) and its dependents are skipped; independent releases go on.
The inventory is updated after every release, so an interrupted apply resumes where it stopped.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.actions.schedule import JobOutcome, JobStatus, run_graph
from toolkit.actions.session import ClusterSession, InventoryStore, installed_state
from toolkit.adapters.files import read_tree, write_atomic
from toolkit.adapters.helm import HelmLike, ReleaseInfo
from toolkit.core.archive import build_chart_archive
from toolkit.core.chart import parse_chart
from toolkit.core.model import (
    Action,
    ChartSource,
    InstalledState,
    PlannedRelease,
    ReleasePlan,
)
from toolkit.core.saved_plan import check_saved_plan
from toolkit.errors import ApplyCancelled, HelmError, InputError, OperationalError

__all__ = [
    "ApplyOptions",
    "ApplyResult",
    "Outcome",
    "ReleaseResult",
    "apply_plan",
    "recover_pending",
    "run_apply",
]

_PENDING = frozenset({"pending-install", "pending-upgrade", "pending-rollback"})


class Outcome(enum.Enum):
    """What happened to one release."""

    INSTALLED = "installed"
    UPGRADED = "upgraded"
    UNCHANGED = "unchanged"
    UNINSTALLED = "uninstalled"
    KEPT = "kept"  # an uninstall that was not allowed (no --prune)
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ApplyOptions:
    """How to act: the flags of `tke-catalog apply`."""

    concurrency: int = 4
    prune: bool = False
    wait: bool = True
    timeout: str = "300s"
    lock_timeout: float = 0.0


@dataclass(frozen=True)
class ReleaseResult:
    name: str
    namespace: str
    action: Action
    outcome: Outcome
    seconds: float = 0.0
    error: str | None = None
    because: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "namespace": self.namespace, "action": self.action.value,
                               "outcome": self.outcome.value, "seconds": round(self.seconds, 2)}
        for key in ("error", "because"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class ApplyResult:
    cluster: str
    releases: tuple[ReleaseResult, ...]
    recovered: tuple[str, ...] = ()
    plan: ReleasePlan | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not any(r.outcome in (Outcome.FAILED, Outcome.SKIPPED) for r in self.releases)

    def as_dict(self) -> dict[str, Any]:
        counts = {o.value: sum(1 for r in self.releases if r.outcome is o) for o in Outcome}
        return {"cluster": self.cluster, "ok": self.ok, "summary": counts, "recovered": list(self.recovered),
                "releases": [r.as_dict() for r in self.releases]}


def recover_pending(helm: HelmLike, releases: list[ReleaseInfo], *, timeout: str,
                    progress: Callable[[str], None]) -> list[str]:
    """Release stuck `pending-*` by an interrupted run: roll back an upgrade, remove a first install."""
    recovered = []
    for info in releases:
        stuck = info.status in _PENDING or (info.status == "failed" and info.revision == 1)
        if not stuck:
            continue
        if info.revision <= 1:
            progress(f"{info.namespace}/{info.name}: {info.status} at revision 1, removing it before a clean install")
            helm.uninstall(info.name, info.namespace, timeout=timeout)
        else:
            progress(f"{info.namespace}/{info.name}: {info.status} at revision {info.revision}, rolling back")
            helm.rollback(info.name, info.namespace, None, timeout=timeout)
        recovered.append(f"{info.namespace}/{info.name}")
    return recovered


@dataclass
class _Context:
    helm: HelmLike
    inventory: InventoryStore
    root: Path
    cache: Path
    options: ApplyOptions
    progress: Callable[[str], None]
    cluster: str
    planned: dict[str, PlannedRelease]


def _archive_for(ctx: _Context, release: PlannedRelease) -> Path:
    """The chart archive to install, never a mutable tag: the copy fetched from a registry and verified
    by digest while planning, else one built from the chart folder; both cached by content digest."""
    from toolkit.actions.registry_source import cached_archive_path

    target = cached_archive_path(ctx.cache, release.chart, release.version, release.digest)
    if target.is_file():
        return target
    folder = ctx.root / release.source if release.source and not release.source.startswith("oci://") else None
    if folder is None or not (folder / "Chart.yaml").is_file():
        raise InputError(f"release {release.name}: chart {release.chart} {release.version} is not on disk",
                         hint="run from the project folder (or pass --root)")
    if not target.is_file():
        package = parse_chart(read_tree(folder), str(folder))
        if package.content_digest != release.digest:
            raise InputError(f"release {release.name}: chart folder {folder} changed since planning",
                             hint="plan again")
        write_atomic(target, build_chart_archive(package.name, package.files))
    return target


def _entry(release: PlannedRelease) -> dict[str, Any]:
    return {"name": release.name, "namespace": release.namespace, "chart": release.chart,
            "version": release.version, "digest": release.digest, "values": dict(release.values),
            "status": "deployed", "app": release.app}


def _install(ctx: _Context, release: PlannedRelease) -> Outcome:
    chart = _archive_for(ctx, release)
    ctx.progress(f"{release.name}: {release.action.value} {release.chart} {release.version}")
    try:
        ctx.helm.upgrade_install(release.name, chart, release.namespace, dict(release.values), wait=ctx.options.wait,
                                 timeout=ctx.options.timeout, description=f"tke-catalog apply ({ctx.cluster})")
    except HelmError as exc:
        _undo(ctx, release)
        raise OperationalError(exc.message, hint=exc.hint) from exc
    ctx.inventory.record(_entry(release))
    return Outcome.INSTALLED if release.action is Action.INSTALL else Outcome.UPGRADED


def _undo(ctx: _Context, release: PlannedRelease) -> None:
    """After a failed install or upgrade: remove a first install, roll an upgrade back."""
    try:
        if release.action is Action.INSTALL:
            ctx.progress(f"{release.name}: install failed, removing it")
            ctx.helm.uninstall(release.name, release.namespace, timeout=ctx.options.timeout)
        else:
            ctx.progress(f"{release.name}: upgrade failed, rolling back")
            ctx.helm.rollback(release.name, release.namespace, None, timeout=ctx.options.timeout,
                              wait=ctx.options.wait)
    except HelmError as exc:
        ctx.progress(f"{release.name}: clean-up after the failure failed too: {exc.message}")


def _uninstall(ctx: _Context, release: PlannedRelease) -> Outcome:
    if not ctx.options.prune:
        ctx.progress(f"{release.name}: no longer wanted; kept (pass --prune to uninstall)")
        return Outcome.KEPT
    ctx.progress(f"{release.name}: uninstall")
    ctx.helm.uninstall(release.name, release.namespace, timeout=ctx.options.timeout, wait=ctx.options.wait)
    ctx.inventory.forget(release.namespace, release.name)
    return Outcome.UNINSTALLED


def _work(ctx: _Context, key: str) -> Outcome:
    release = ctx.planned[key]
    if release.action is Action.NOOP:
        return Outcome.UNCHANGED
    if release.action is Action.UNINSTALL:
        return _uninstall(ctx, release)
    return _install(ctx, release)


def _dependency_graph(plan: ReleasePlan) -> dict[str, list[str]]:
    """Installs and upgrades wait for their dependencies; uninstalls wait for the releases that
    depended on them (reverse order) and for every install, as the plan orders them last."""
    deps: dict[str, list[str]] = {}
    removing = [r for r in plan.releases if r.action is Action.UNINSTALL]
    staying = [r for r in plan.releases if r.action is not Action.UNINSTALL]
    for release in staying:
        deps[release.name] = list(release.depends_on)
    for release in removing:
        dependents = [r.name for r in removing if release.name in r.depends_on]
        deps[release.name] = dependents + [r.name for r in staying]
    return deps


def apply_plan(plan: ReleasePlan, *, helm: HelmLike, inventory: InventoryStore, root: Path, cache: Path,
               options: ApplyOptions, progress: Callable[[str], None], recovered: tuple[str, ...] = ()) -> ApplyResult:
    """Carry out `plan` (the caller holds the lock and has confirmed)."""
    ctx = _Context(helm, inventory, root, cache, options, progress, plan.cluster, {r.name: r for r in plan.releases})
    started: dict[str, float] = {}
    results: dict[str, ReleaseResult] = {}

    def on_start(key: str) -> None:
        started[key] = time.monotonic()

    def on_done(key: str, outcome: JobOutcome[Outcome]) -> None:
        release = ctx.planned[key]
        seconds = time.monotonic() - started.get(key, time.monotonic())
        if outcome.status is JobStatus.SUCCEEDED:
            assert outcome.result is not None
            result = ReleaseResult(release.name, release.namespace, release.action, outcome.result, seconds)
        elif outcome.status is JobStatus.FAILED:
            result = ReleaseResult(release.name, release.namespace, release.action, Outcome.FAILED, seconds,
                                   error=str(getattr(outcome.error, "message", outcome.error)))
            progress(f"{release.name}: FAILED: {result.error}")
        else:
            result = ReleaseResult(release.name, release.namespace, release.action, Outcome.SKIPPED,
                                   because=outcome.because)
            progress(f"{release.name}: skipped because {outcome.because} failed")
        results[key] = result
        if result.outcome in (Outcome.INSTALLED, Outcome.UPGRADED, Outcome.UNINSTALLED):
            progress(f"{release.name}: {result.outcome.value} in {seconds:.1f}s")

    run_graph(_dependency_graph(plan), lambda key: _work(ctx, key), concurrency=options.concurrency,
              on_start=on_start, on_done=on_done)
    ordered = tuple(results[r.name] for r in plan.releases)
    return ApplyResult(plan.cluster, ordered, recovered, plan)



def _plan_against(cluster_file: Path, root: Path, state: InstalledState, allow_critical_removal: bool,
                  charts: ChartSource | None) -> ReleasePlan:
    from toolkit.actions.plan import run_plan

    return run_plan(cluster_file, catalog_root=root, state=state, charts=charts,
                    allow_critical_removal=allow_critical_removal).plan


def run_apply(source: Path, *, session: ClusterSession, root: Path, cache: Path, options: ApplyOptions,
              allow_critical_removal: bool, confirm: Callable[[ReleasePlan], bool], progress: Callable[[str], None],
              charts: ChartSource | None = None) -> ApplyResult:
    """The `apply` verb: a Cluster file (plans first) or a saved PLAN.json (checked against the cluster).

    `session` carries helm, the inventory and the Lease (the caller connects and closes it); `charts`
    (default: the catalog's folders) decides where charts come from, e.g. a registry by digest.
    """
    from toolkit.actions.validate import parse_cluster_text
    from toolkit.adapters.files import read_text
    from toolkit.core.findings import has_errors, plan_rejected

    document: dict[str, Any] | None = None
    cluster_file = source
    if source.suffix == ".json":
        try:
            document = json.loads(read_text(source))
            cluster_file = Path(document["source"]["clusterFile"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{source}: not a plan written by `tke-catalog plan --out`",
                             hint="pass a Cluster file, or a plan saved with --out") from exc
    cluster_text = read_text(cluster_file)
    parsed = parse_cluster_text(cluster_text, str(cluster_file), root)
    if parsed.cluster is None or has_errors(parsed.findings):
        raise plan_rejected(parsed.findings, str(cluster_file))
    if parsed.cluster.generated_name:
        raise InputError(f"{cluster_file}: metadata.name is unset (TKEStack would generate it from generateName); "
                         "apply needs the Cluster's real name, which names its inventory and Lease",
                         hint="write metadata.name (the name TKEStack gave the Cluster, e.g. cls-abcd1234)")
    name = parsed.cluster.name
    helm = session.helm
    progress(f"cluster {name}: API server {session.server} ({session.server_version})")
    lock = session.lock_for(name)
    lock.acquire(wait=options.lock_timeout)
    try:
        inventory = session.inventory_for(name)
        releases = helm.list_releases()
        state = installed_state(name, releases, inventory.load())
        plan = _plan_against(cluster_file, root, state, allow_critical_removal, charts)
        ours = {(r.namespace, r.name) for r in plan.releases} | {
            tuple(key.split("/", 1)) for key in state.inventory or ()}
        recovered = recover_pending(helm, [r for r in releases if (r.namespace, r.name) in ours],
                                    timeout=options.timeout, progress=progress)
        if recovered:
            releases = helm.list_releases()
            state = installed_state(name, releases, inventory.load())
            plan = _plan_against(cluster_file, root, state, allow_critical_removal, charts)
        if document is not None:
            check_saved_plan(document, plan, state, cluster_text)
        if not plan.has_changes:
            progress("nothing to do: every release is up to date")
        elif not confirm(plan):
            raise ApplyCancelled("apply cancelled; nothing was changed")
        return apply_plan(plan, helm=helm, inventory=inventory, root=root, cache=cache,
                          options=options, progress=progress, recovered=tuple(recovered))
    finally:
        lock.release()

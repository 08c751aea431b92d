"""`apply`: make the cluster match the release plan, one release at a time, safely.

Under the Cluster's Lease: read what is installed (helm's release list plus our inventory), recover
releases an interrupted run left `pending-*`, plan (or check a saved plan still matches), confirm, then
run every install and upgrade as soon as its own dependencies succeeded. A failed release is rolled
back (or removed if it was a first install) and its dependents are skipped; independent releases go on.
The inventory is updated after every release, so an interrupted apply resumes where it stopped.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from toolkit.actions.apply_release import (
    NotRecorded,
    ReleaseWork,
    chart_folder,
    recover_pending,
)
from toolkit.actions.apply_result import (
    ApplyOptions,
    ApplyResult,
    Outcome,
    ReleaseResult,
)
from toolkit.actions.schedule import INTERRUPTED, JobOutcome, JobStatus, run_graph
from toolkit.actions.session import (
    ClusterLock,
    ClusterSession,
    CustomResourceDefinitions,
    InventoryStore,
    ReleaseRecords,
    read_state,
)
from toolkit.actions.takeover import RECREATED, REPLACED, WORKLOADS, replaced_objects
from toolkit.adapters.helm import HelmLike
from toolkit.core.live_facts import live_findings
from toolkit.core.model import (
    Action,
    ChartSource,
    InstalledState,
    ReleasePlan,
)
from toolkit.core.reachability import says_unreachable
from toolkit.core.saved_plan import check_saved_plan
from toolkit.core.waves import StartRule, start_rules
from toolkit.errors import (
    ApplyCancelled,
    ClusterError,
    ConflictError,
    HelmError,
    InputError,
    InventoryCorrupt,
    LeaseLost,
    OperationalError,
)

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


def _start_rules(plan: ReleasePlan) -> dict[str, StartRule]:
    """Installs and upgrades start by the rules the plan's waves come from (dependencies, then the
    tiers as barriers); uninstalls wait for the releases that depended on them (reverse order) and for
    every install, as the plan orders them last."""
    removing = [r for r in plan.releases if r.action is Action.UNINSTALL]
    staying = [r for r in plan.releases if r.action is not Action.UNINSTALL]
    rules = start_rules({r.name: r.depends_on for r in staying}, {r.name: r.tier for r in staying})
    for release in removing:
        dependents = [r.name for r in removing if release.name in r.depends_on]
        rules[release.name] = StartRule(needs=tuple(dependents + [r.name for r in staying]))
    return rules


def apply_plan(plan: ReleasePlan, *, helm: HelmLike, inventory: InventoryStore, root: Path, cache: Path,
               options: ApplyOptions, progress: Callable[[str], None], recovered: tuple[str, ...] = (),
               lock: ClusterLock | None = None, records: ReleaseRecords | None = None,
               recorded: frozenset[str] = frozenset(), busy: Mapping[str, str] | None = None,
               crds: CustomResourceDefinitions | None = None) -> ApplyResult:
    """Carry out `plan` (the caller holds the Lease and has confirmed). With `lock`, every write is
    fenced: a lost Lease stops the run before the next write, and the result says so."""
    ctx = ReleaseWork(helm, inventory, root, cache, options, progress, plan.cluster,
                      {r.name: r for r in plan.releases}, lock=lock, records=records, recorded=recorded,
                      busy=dict(busy or {}), crds=crds)
    started: dict[str, float] = {}
    results: dict[str, ReleaseResult] = {}
    lost: list[str] = []
    stopped: list[str] = []

    def halt(key: str, outcome: JobOutcome[Outcome]) -> str | None:
        reason = _unreachable(outcome.error)
        if reason is not None and not stopped:
            stopped.append(reason)
            progress(f"stopping: {reason}; the releases in flight finish, nothing new starts")
        return reason

    def on_interrupt(in_flight: list[str]) -> None:
        stopped.append(INTERRUPTED)
        progress(f"interrupted: {len(in_flight)} release(s) in flight finish ({', '.join(in_flight) or 'none'}); "
                 "press Ctrl-C again to stop at once (apply recovers on the next run)")

    def on_start(key: str) -> None:
        started[key] = time.monotonic()

    def on_done(key: str, outcome: JobOutcome[Outcome]) -> None:
        release = ctx.planned[key]
        seconds = time.monotonic() - started.get(key, time.monotonic())
        if outcome.status is JobStatus.SUCCEEDED:
            assert outcome.result is not None
            result = ReleaseResult(release.name, release.namespace, release.action, outcome.result, seconds)
        elif outcome.status is JobStatus.FAILED and isinstance(outcome.error, NotRecorded):
            result = ReleaseResult(release.name, release.namespace, release.action, Outcome.NOT_RECORDED, seconds,
                                   error=outcome.error.message)
            progress(f"{release.name}: installed, NOT RECORDED: {result.error}")
        elif outcome.status is JobStatus.FAILED and isinstance(outcome.error, ConflictError):
            result = ReleaseResult(release.name, release.namespace, release.action, Outcome.REFUSED, seconds,
                                   error=outcome.error.message)
            progress(f"{release.name}: refused: {result.error}")
        elif outcome.status is JobStatus.FAILED:
            if isinstance(outcome.error, LeaseLost) and not lost:
                lost.append(outcome.error.message)
            result = ReleaseResult(release.name, release.namespace, release.action, Outcome.FAILED, seconds,
                                   error=str(getattr(outcome.error, "message", outcome.error)))
            progress(f"{release.name}: FAILED: {result.error}")
        else:
            result = ReleaseResult(release.name, release.namespace, release.action, Outcome.SKIPPED,
                                   because=outcome.because)
            if outcome.because not in stopped:  # those are summed up once, not one line each
                progress(f"{release.name}: skipped because {outcome.because} failed")
        results[key] = result
        if result.outcome in (Outcome.INSTALLED, Outcome.UPGRADED, Outcome.UNINSTALLED):
            progress(f"{release.name}: {result.outcome.value} in {seconds:.1f}s")

    run_graph(_start_rules(plan), ctx.work, concurrency=options.concurrency,
              critical=lambda key: ctx.planned[key].critical, halt=halt, on_start=on_start, on_done=on_done,
              on_interrupt=on_interrupt)
    ordered = tuple(results[r.name] for r in plan.releases)
    return ApplyResult(plan.cluster, ordered, recovered, plan, lease_lost=lost[0] if lost else None,
                       stopped=stopped[0] if stopped else None)


def _unreachable(error: BaseException | None) -> str | None:
    """`the cluster stopped answering: ...` when a release's error (or the helm or API error it wraps)
    says no API server answered; a Lease not renewed for want of an answer counts."""
    while error is not None and not isinstance(error, (ClusterError, HelmError)):
        error = error.__cause__ if isinstance(error, OperationalError) else None
    if error is None:
        return None
    said = error.stderr if isinstance(error, HelmError) and error.stderr else error.message
    if isinstance(error, ClusterError) and error.status is not None or not says_unreachable(said):
        return None
    line = next((part.strip() for part in said.splitlines() if says_unreachable(part)), said.strip())
    return f"the cluster stopped answering: {line[:200]}"


def unowned_objects(session: ClusterSession, plan: ReleasePlan, root: Path, cache: Path) -> dict[str, tuple[str, ...]]:
    """For each release the plan installs: the objects it would create that already exist without
    helm's ownership of it (`namespace/name` → `Kind/name`), read from its rendered manifest."""
    from toolkit.actions.registry_source import cached_archive_path
    from toolkit.adapters.project import load_catalog
    from toolkit.core.helm_release import ReleaseObject

    if session.records is None:
        return {}
    catalog = load_catalog(root)
    found: dict[str, tuple[str, ...]] = {}
    for release in plan.releases:
        if release.action is not Action.INSTALL:
            continue
        chart = chart_folder(release, root) or cached_archive_path(cache, release.chart, release.version,
                                                                     release.digest)
        if not chart.exists():
            continue
        try:
            rendered = session.helm.template(chart, release.name, release.namespace, dict(release.values))
        except HelmError:
            continue  # apply reports the same failure for the release itself
        objects = [ReleaseObject(str(o.get("apiVersion", "")), str(o.get("kind", "")),
                                 str((o.get("metadata") or {}).get("name", "")),
                                 (o.get("metadata") or {}).get("namespace")) for o in rendered
                   if isinstance(o, dict) and o.get("kind") != "CustomResourceDefinition"]
        existing = session.records.unowned(release.name, release.namespace, objects)
        selectors = {(str(o.get("kind")), str((o.get("metadata") or {}).get("name"))): (o.get("spec") or {}).get("selector")
                     for o in rendered if isinstance(o, dict) and o.get("kind") in WORKLOADS}
        shown = []
        for o, owner in existing:
            live = session.records.live(o, release.namespace) if o.kind in WORKLOADS else None
            recreate = live is not None and (live.get("spec") or {}).get("selector") != selectors.get((o.kind, o.name))
            shown.append(f"{o.kind}/{o.name}" + (f" (of helm release {owner})" if owner else "")
                         + (RECREATED if recreate else ""))
        replaced = session.records.unowned(release.name, release.namespace, replaced_objects(release, catalog))
        shown += [f"{o.kind}/{o.name}{REPLACED}" for o, _ in replaced]
        if shown:
            found[f"{release.namespace}/{release.name}"] = tuple(shown)
    return found



def _plan_against(cluster_file: Path, root: Path, state: InstalledState, allow_critical_removal: bool,
                  charts: ChartSource | None, helm_major: int, take_over: frozenset[str]) -> ReleasePlan:
    from toolkit.actions.plan import run_plan

    return run_plan(cluster_file, catalog_root=root, state=state, charts=charts,
                    allow_critical_removal=allow_critical_removal, helm_major=helm_major, take_over=take_over).plan


def _inventory_document(inventory: InventoryStore, options: ApplyOptions,
                        progress: Callable[[str], None]) -> dict[str, Any]:
    """The inventory; with --rebuild-inventory an unreadable one is replaced by an empty one, which this
    run fills again from the ownership marks on helm's release records."""
    try:
        return inventory.load()
    except InventoryCorrupt as exc:
        if not options.rebuild_inventory:
            raise
        progress(f"{exc.message}: rebuilding it from the ownership marks on helm's release records")
        inventory.replace_all([])
        return inventory.load()


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
    helm_note = f", helm {session.helm_version} ({session.helm_path})" if session.helm_version else ""
    progress(f"cluster {name}: API server {session.server} ({session.server_version}){helm_note}")
    lock = session.lock_for(name)
    lock.acquire(wait=options.lock_timeout)
    try:
        inventory = session.inventory_for(name)
        document_now = _inventory_document(inventory, options, progress)
        where = {r.namespace for r in _plan_against(cluster_file, root, InstalledState(name), allow_critical_removal,
                                                    charts, session.helm_major, options.take_over).releases}
        state, releases, deployed = read_state(session, name, document_now, check_objects=options.check_objects,
                                               namespaces=where)
        plan = _plan_against(cluster_file, root, state, allow_critical_removal, charts, session.helm_major,
                             options.take_over)
        ours = {(r.namespace, r.name) for r in plan.releases if r.action is not Action.CONFLICT} | {
            tuple(key.split("/", 1)) for key in state.inventory or ()}
        busy: dict[str, str] = {}
        recovered = recover_pending(helm, [r for r in releases if (r.namespace, r.name) in ours],
                                    timeout=options.timeout, progress=progress, lock=lock, deployed=deployed,
                                    now=datetime.datetime.now(datetime.timezone.utc), busy=busy)
        if recovered:
            state, releases, deployed = read_state(session, name, inventory.load(), check_objects=options.check_objects,
                                                   namespaces=where)
            plan = _plan_against(cluster_file, root, state, allow_critical_removal, charts, session.helm_major,
                                 options.take_over)
        if options.check_objects:
            unowned = unowned_objects(session, plan, root, cache)
            if unowned:
                state = replace(state, unowned=unowned)
                plan = _plan_against(cluster_file, root, state, allow_critical_removal, charts, session.helm_major,
                                     options.take_over)
        live = live_findings(parsed.cluster, plan, session.nodes(), session.server_version)
        if has_errors(live):
            raise plan_rejected(live, str(cluster_file))
        for finding in live:
            progress(f"warning: {finding.message}")
        if document is not None:
            check_saved_plan(document, plan, state, cluster_text)
        recorded = frozenset(state.inventory or ())
        missing_records = any(r.action is Action.NOOP and f"{r.namespace}/{r.name}" not in recorded
                              for r in plan.releases)
        if not plan.has_changes and not missing_records:
            progress("nothing to do: every release is up to date")
        elif plan.has_changes and not confirm(plan):
            raise ApplyCancelled("apply cancelled; nothing was changed")
        result = apply_plan(plan, helm=helm, inventory=inventory, root=root, cache=cache, options=options,
                            progress=progress, recovered=tuple(recovered), lock=lock, records=session.records,
                            recorded=recorded, busy=busy, crds=session.crds)
        return replace(result, helm=session.helm_info()) if session.helm_version else result
    finally:
        lock.release()

"""`tke-catalog controller`: keep every Cluster object's apps converged, edits included, on N replicas.

Level-based, not edge-based: every reconcile plans the whole Cluster against what its business cluster
has (the same planner and apply core as the CLI), so a missed event, a restart or a hand edit on the
cluster is repaired by the next reconcile, and a reconcile with nothing to do makes no helm call.

Threads: one watch of the Cluster objects (list, then watch; relist when the watch expires or breaks),
one ticker for ownership (heartbeat, claim and give back Clusters: `toolkit.adapters.kube.ownership`),
and `workers` reconcilers taking due Clusters from one queue, at most one reconcile per Cluster at a
time. A Cluster is due when it is first seen or claimed, when its spec or annotations change, after a
failure (per-Cluster exponential backoff), and every `resync` seconds.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from toolkit.actions.reconcile import (
    Event,
    Management,
    Outcome,
    ReconcileSettings,
    SessionOpener,
    finalize,
    reconcile,
)
from toolkit.adapters.metrics import ControllerMetrics
from toolkit.core.controller_policy import FINALIZER
from toolkit.core.controller_status import (
    Backoff,
    Kind,
    Verdict,
    cluster_status,
    same_status,
)
from toolkit.errors import ClusterError, ObjectConflict, OperationalError, ToolkitError

__all__ = ["Controller", "ControllerOptions", "ClusterStore", "EventSink", "Owners", "want_key"]


class ClusterStore(Protocol):
    """The Cluster objects on the management cluster (`toolkit.adapters.kube.cluster_objects`)."""

    def list_all(self) -> tuple[list[dict[str, Any]], str]: ...
    def watch(self, resource_version: str, timeout: int = 60) -> Iterator[dict[str, Any]]: ...
    def get(self, name: str) -> dict[str, Any] | None: ...
    def write_status(self, obj: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]: ...
    def set_finalizers(self, obj: Mapping[str, Any], finalizers: list[str]) -> dict[str, Any]: ...


class EventSink(Protocol):
    def emit(self, obj: Mapping[str, Any], kind: str, reason: str, message: str) -> None: ...


class Owners(Protocol):
    """Which Clusters this replica works on (`toolkit.adapters.kube.ownership.Ownership`)."""

    def count(self) -> int: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def rebalance(self, clusters: list[str], busy: list[str] = ...) -> tuple[list[str], list[str]]: ...
    def holds(self, cluster: str) -> bool: ...


@dataclass(frozen=True)
class ControllerOptions:
    """The controller's timing and size: its flags."""

    workers: int = 8
    resync: float = 300.0
    lease_duration: int = 15
    backoff_base: float = 2.0
    backoff_cap: float = 300.0
    busy_retry: float = 3.0
    watch_timeout: int = 60


def want_key(obj: Mapping[str, Any]) -> str:
    """What a reconcile depends on: the spec, our annotations and whether the object is being deleted
    (TKEStack's own API may not keep `generation`; a status write never changes this)."""
    meta = obj.get("metadata") or {}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k.startswith("tke-catalog.io/")}
    text = json.dumps([obj.get("spec"), annotations, bool(meta.get("deletionTimestamp"))], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


class Controller:
    """The reconcile loop of one replica."""

    def __init__(self, *, store: ClusterStore, events: EventSink, owners: Owners, management: Management,
                 settings: ReconcileSettings, options: ControllerOptions, open_session: SessionOpener,
                 metrics: ControllerMetrics, log: Callable[[str], None]) -> None:
        self.store, self.events, self.owners, self.management = store, events, owners, management
        self.settings, self.options, self.open_session = settings, options, open_session
        self.metrics, self.log = metrics, log
        self.backoff = Backoff(options.backoff_base, options.backoff_cap)
        self._cond = threading.Condition()
        self._objects: dict[str, dict[str, Any]] = {}
        self._started: dict[str, str] = {}  # want_key of the reconcile last started per Cluster
        self._done: dict[str, str] = {}  # want_key of the reconcile last finished per Cluster
        self._due: dict[str, float] = {}
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._listed = threading.Event()
        self.watching = False

    # -- the queue --------------------------------------------------------------------------------

    def schedule(self, name: str, delay: float = 0.0) -> None:
        """Make `name` due in `delay` seconds (sooner wins; a running one runs again after, when now)."""
        with self._cond:
            if name in self._running:
                if delay <= 0:
                    self._again.add(name)
                return
            at = time.monotonic() + delay
            if name not in self._due or self._due[name] > at:
                self._due[name] = at
            self.metrics.queue.set(len(self._due))
            self._cond.notify()

    def _take(self, stop: threading.Event) -> str | None:
        with self._cond:
            while not stop.is_set():
                now = time.monotonic()
                ready = [(at, n) for n, at in self._due.items() if at <= now and n not in self._running]
                if ready:
                    _, name = min(ready)
                    del self._due[name]
                    self._running.add(name)
                    self.metrics.queue.set(len(self._due))
                    return name
                upcoming = [at for n, at in self._due.items() if n not in self._running]
                self._cond.wait(timeout=min([1.0] + [max(0.01, at - now) for at in upcoming]))
        return None

    def _finish(self, name: str, delay: float | None) -> None:
        with self._cond:
            self._running.discard(name)
            if name in self._again:
                self._again.discard(name)
                delay = 0.0
        if delay is not None:
            self.schedule(name, delay)

    # -- the watch ----------------------------------------------------------------------------------

    def _observe(self, obj: dict[str, Any]) -> None:
        name = _name(obj)
        with self._cond:
            self._objects[name] = obj
        if self._started.get(name) != want_key(obj) and self.owners.holds(name):
            self.schedule(name)

    def _forget(self, name: str) -> None:
        with self._cond:
            self._objects.pop(name, None)
            self._due.pop(name, None)
        self._started.pop(name, None)
        self._done.pop(name, None)
        self.backoff.succeeded(name)

    def _watch_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                items, version = self.store.list_all()
                names = {_name(o) for o in items}
                for gone in set(self._objects) - names:
                    self._forget(gone)
                for obj in items:
                    self._observe(obj)
                self._listed.set()
                self.watching = True
                while not stop.is_set():
                    expired = False
                    for event in self.store.watch(version, timeout=self.options.watch_timeout):
                        kind, obj = event.get("type"), event.get("object") or {}
                        if kind == "ERROR":
                            expired = True  # 410 Gone: the version is too old; list again
                            break
                        version = str((obj.get("metadata") or {}).get("resourceVersion", version))
                        if kind == "BOOKMARK":
                            continue
                        if kind == "DELETED":
                            self._forget(_name(obj))
                        else:
                            self._observe(obj)
                        if stop.is_set():
                            return
                    if expired:
                        break
            except (OperationalError, ValueError) as exc:
                self.watching = False
                self.log(f"watch of Cluster objects failed: {getattr(exc, 'message', exc)}; listing again shortly")
                stop.wait(2.0)

    # -- ownership ----------------------------------------------------------------------------------

    def _ownership_loop(self, stop: threading.Event) -> None:
        self._listed.wait(timeout=30)
        while not stop.is_set():
            try:
                with self._cond:
                    known, busy = list(self._objects), list(self._running)
                claimed, dropped = self.owners.rebalance(known, busy)
                for name in dropped:
                    with self._cond:
                        self._due.pop(name, None)
                    self._started.pop(name, None)
                    self.log(f"{name}: given back to the other replicas")
                for name in claimed:
                    self._started.pop(name, None)
                    self.log(f"{name}: now owned by this replica")
                    self.schedule(name)
                self.metrics.owned.set(self.owners.count())
            except OperationalError as exc:
                self.log(f"ownership: {exc.message}")
            stop.wait(max(1.0, self.options.lease_duration / 3))

    # -- one reconcile ------------------------------------------------------------------------------

    def _write_status(self, name: str, verdict: Verdict, generation: int) -> None:
        for _ in range(3):
            current = self.store.get(name)
            if current is None:
                return
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            status = cluster_status(current.get("status"), verdict, generation, now)
            if same_status(current.get("status"), status):
                return
            try:
                updated = self.store.write_status(current, status)
                with self._cond:
                    if name in self._objects:
                        self._objects[name] = updated
                return
            except ObjectConflict:
                continue

    def _set_finalizer(self, obj: dict[str, Any], present: bool) -> dict[str, Any] | None:
        for _ in range(3):
            finalizers = list((obj.get("metadata") or {}).get("finalizers") or [])
            if (FINALIZER in finalizers) == present:
                return obj
            finalizers = finalizers + [FINALIZER] if present else [f for f in finalizers if f != FINALIZER]
            try:
                return self.store.set_finalizers(obj, finalizers)
            except ObjectConflict:
                fresh = self.store.get(_name(obj))
                if fresh is None:
                    return None
                obj = fresh
        raise ClusterError(f"Cluster {_name(obj)}: its finalizers kept changing under us", hint="retried shortly")

    def _post(self, obj: Mapping[str, Any], events: tuple[Event, ...]) -> None:
        for event in events:
            self.events.emit(obj, event.type, event.reason, event.message)

    def _progress(self, name: str) -> Callable[[str], None]:
        return lambda line: self.log(f"{name}: {line}")

    def work(self, name: str) -> float | None:
        """Reconcile (or finalize) one Cluster; the delay before it is due again (None: not again)."""
        with self._cond:
            obj = self._objects.get(name)
        if obj is None or not self.owners.holds(name):
            return None
        key = want_key(obj)
        self._started[name] = key
        meta = obj.get("metadata") or {}
        generation = int(meta.get("generation") or 0)
        failures = self.backoff.count(name)
        if meta.get("deletionTimestamp"):
            if FINALIZER not in (meta.get("finalizers") or []):
                return None
            outcome = finalize(obj, management=self.management, settings=self.settings,
                               open_session=self.open_session, progress=self._progress(name), failures=failures)
            self._post(obj, outcome.events)
            if outcome.done:
                self._set_finalizer(obj, False)
                self.backoff.succeeded(name)
                return None
            self._write_status(name, outcome.verdict, generation)
            return self.backoff.failed(name)
        updated = self._set_finalizer(obj, True)
        if updated is None:
            return None
        if self._done.get(name) != key:
            self._write_status(name, Verdict(Kind.PROGRESSING, f"applying generation {generation}",
                                             failures=failures), generation)
        outcome = reconcile(updated, management=self.management, settings=self.settings,
                            open_session=self.open_session, progress=self._progress(name), failures=failures)
        return self._conclude(name, updated, outcome, generation, key)

    def _conclude(self, name: str, obj: Mapping[str, Any], outcome: Outcome, generation: int, key: str) -> float:
        verdict = outcome.verdict
        self._write_status(name, verdict, generation)
        self._post(obj, outcome.events)
        self.log(f"{name}: {verdict.kind.value}: {verdict.message.splitlines()[0] if verdict.message else ''}")
        if verdict.kind is Kind.BUSY:
            return self.options.busy_retry
        self._done[name] = key
        if verdict.kind in (Kind.READY, Kind.INVALID):
            self.backoff.succeeded(name)
            return self.options.resync
        self.metrics.failures.labels(verdict.kind.value).inc()
        return self.backoff.failed(name)

    def _worker(self, stop: threading.Event) -> None:
        while not stop.is_set():
            name = self._take(stop)
            if name is None:
                return
            started = time.monotonic()
            self.metrics.in_flight.inc()
            delay: float | None = None
            result = "error"
            try:
                delay = self.work(name)
                result = "ok"
            except ToolkitError as exc:
                self.log(f"{name}: reconcile failed: {exc.message}")
                delay = self.backoff.failed(name)
            except Exception as exc:  # a bug must not kill the worker: report it, back off, go on
                self.log(f"{name}: internal error {type(exc).__name__}: {exc}")
                delay = self.backoff.failed(name)
            finally:
                self.metrics.in_flight.dec()
                self.metrics.reconciles.labels(result).inc()
                self.metrics.duration.observe(time.monotonic() - started)
                self._finish(name, delay)

    # -- the whole replica --------------------------------------------------------------------------

    def run(self, stop: threading.Event, grace: float = 60.0) -> None:
        """Run until `stop` is set; then let running reconciles finish (up to `grace` s) and hand over."""
        self.owners.start()
        threads = [threading.Thread(target=self._watch_loop, args=(stop,), name="watch", daemon=True),
                   threading.Thread(target=self._ownership_loop, args=(stop,), name="ownership", daemon=True)]
        threads += [threading.Thread(target=self._worker, args=(stop,), name=f"reconciler-{i}", daemon=True)
                    for i in range(self.options.workers)]
        for thread in threads:
            thread.start()
        stop.wait()
        with self._cond:
            self._cond.notify_all()
        deadline = time.monotonic() + grace
        for thread in threads[2:]:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self.owners.stop()


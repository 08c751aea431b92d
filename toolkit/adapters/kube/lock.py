"""The apply lock: a coordination.k8s.io Lease per Cluster, renewed while we work. A second apply
waits for it or refuses, naming the holder; a lease its holder stopped renewing (killed) expires.

Fencing: `ensure_held()` renews the Lease synchronously and raises LeaseLost when it is gone or someone
else holds it, so every write apply makes (a helm action, an inventory update) happens only right after
we proved we hold it. The background renewer notices a loss too, and `ensure_held()` then fails at once.
"""

from __future__ import annotations

import datetime
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from toolkit.adapters.kube.client import KubeClient
from toolkit.adapters.kube.inventory import inventory_name
from toolkit.core.helm_release import holder_label
from toolkit.errors import LeaseLost, LockHeld, ObjectConflict, OperationalError

__all__ = ["ApplyLock", "holder_is_dead", "lease_expired", "new_identity"]

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"



def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


_HOLDER = re.compile(r"^(?P<host>.*)[/.]pid-(?P<pid>\d+)[/.][0-9a-f]+$")


def holder_is_dead(holder: str) -> bool:
    """True for a holder on this host whose process is gone (an apply killed hard): no need to wait.

    `holder` is a Lease holder identity (`host/pid-N/uuid`) or its label form (`host.pid-N.uuid`, as
    helm's release records carry it); the host must match exactly, else only expiry can tell."""
    match = _HOLDER.match(holder)
    host = socket.gethostname()
    if not match or match.group("host") not in (host, holder_label(host)):
        return False
    try:
        os.kill(int(match.group("pid")), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def new_identity() -> str:
    """A holder identity `host/pid-N/uuid`: `holder_is_dead` can tell when its process is gone."""
    return f"{socket.gethostname()}/pid-{os.getpid()}/{uuid.uuid4().hex[:8]}"


def lease_expired(lease: dict[str, Any], now: datetime.datetime, default_duration: int = 30) -> bool:
    """Whether a Lease's holder stopped renewing it (or was killed on this host)."""
    spec = lease.get("spec") or {}
    renewed = _parse(spec.get("renewTime"))
    return renewed is None or now > renewed + datetime.timedelta(
        seconds=int(spec.get("leaseDurationSeconds") or default_duration)) or holder_is_dead(
        str(spec.get("holderIdentity") or ""))


def _parse(text: str | None) -> datetime.datetime | None:
    if not text:
        return None
    for fmt in (_FORMAT, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            continue
    return None


class ApplyLock:
    """Hold the Lease `tke-catalog-apply-<cluster>` in `namespace` for the duration of an apply."""

    def __init__(self, kube: KubeClient, cluster: str, *, namespace: str = "kube-system",
                 duration: int = 30, clock: Callable[[], datetime.datetime] = _now, purpose: str = "apply",
                 identity: str | None = None, labels: dict[str, str] | None = None,
                 annotations: dict[str, str] | None = None) -> None:
        self.kube, self.namespace, self.duration, self.clock = kube, namespace, duration, clock
        self.name = inventory_name(cluster).replace("inventory", purpose)
        self.identity = identity or new_identity()
        self.labels = {"app.kubernetes.io/managed-by": "tke-catalog", **(labels or {})}
        self.annotations = dict(annotations or {})
        self._path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._lost: str | None = None
        self._renewed_at = 0.0
        self._guard = threading.Lock()

    def _body(self, version: str | None, acquired: str) -> dict[str, Any]:
        now = self.clock().strftime(_FORMAT)
        meta: dict[str, Any] = {"name": self.name, "namespace": self.namespace, "labels": dict(self.labels)}
        if self.annotations:
            meta["annotations"] = dict(self.annotations)
        if version:
            meta["resourceVersion"] = version
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
                "spec": {"holderIdentity": self.identity, "leaseDurationSeconds": self.duration,
                         "acquireTime": acquired or now, "renewTime": now}}

    def _try(self) -> str | None:
        """Take the lease if free or expired; otherwise return a description of the holder."""
        lease = self.kube.get(f"{self._path}/{self.name}")
        if lease is None:
            try:
                self.kube.request("POST", self._path, self._body(None, ""))
                return None
            except ObjectConflict:
                return "another apply (just now)"
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity")
        expired = lease_expired(lease, self.clock(), self.duration)
        if holder and holder != self.identity and not expired:
            return f"{holder} (renewed {spec.get('renewTime')})"
        try:
            self.kube.request("PUT", f"{self._path}/{self.name}",
                              self._body(lease["metadata"]["resourceVersion"], ""))
            return None
        except ObjectConflict:
            return f"{holder or 'another apply'} (just now)"

    def acquire(self, wait: float = 0.0, poll: float = 1.0) -> None:
        """Take the lease, waiting up to `wait` seconds; LockHeld names the holder when it stays taken."""
        deadline = time.monotonic() + wait
        while True:
            holder = self._try()
            if holder is None:
                break
            if time.monotonic() >= deadline:
                raise LockHeld(f"another apply holds the lock {self.namespace}/{self.name}: {holder}",
                               hint="wait for it to finish, or pass --lock-timeout to wait longer")
            time.sleep(poll)
        self._stop.clear()
        self._lost = None
        self._renewed_at = time.monotonic()
        self._renewer = threading.Thread(target=self._renew_loop, name="lease-renewer", daemon=True)
        self._renewer.start()

    @property
    def lost(self) -> str | None:
        """Why the Lease is no longer ours (the renewer found it deleted or taken), or None."""
        return self._lost

    def _check_ours(self, lease: dict[str, Any] | None) -> None:
        """LeaseLost (remembered) unless `lease` is still held by us."""
        holder = (lease.get("spec") or {}).get("holderIdentity") if lease is not None else None
        if lease is None or holder != self.identity:
            self._lost = (f"the Lease {self.namespace}/{self.name} was deleted" if lease is None
                          else f"the Lease {self.namespace}/{self.name} is now held by {holder}")
            raise self._loss()

    def _loss(self) -> LeaseLost:
        return LeaseLost(f"{self._lost}; stopped before the next change",
                         hint="another apply may be working on this Cluster: let it finish, then re-run")

    def _renew(self) -> None:
        """Renew once; LeaseLost when the Lease is gone or held by someone else."""
        path = f"{self._path}/{self.name}"
        lease = self.kube.get(path)
        self._check_ours(lease)
        assert lease is not None
        body = self._body(lease["metadata"]["resourceVersion"], lease["spec"].get("acquireTime", ""))
        try:
            self.kube.request("PUT", path, body)
        except ObjectConflict:
            # the Lease changed between our read and our write: ours only if we still hold it (our own
            # renewer thread may have renewed it); anyone else's is a loss, never a passing error
            self._check_ours(self.kube.get(path))
        self._renewed_at = time.monotonic()

    def ensure_held(self) -> None:
        """Prove we still hold the Lease (renewing it) right before a write; LeaseLost otherwise."""
        with self._guard:
            if self._lost is not None:
                raise self._loss()
            try:
                self._renew()
            except LeaseLost:
                raise
            except OperationalError as exc:
                if time.monotonic() - self._renewed_at < self.duration / 2:
                    return  # a passing API error: the last renewal still covers us
                self._lost = f"the Lease {self.namespace}/{self.name} could not be renewed ({exc.message})"
                raise LeaseLost(self._lost, hint="check the API server, then re-run") from exc

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.duration / 3):
            try:
                with self._guard:
                    if self._lost is None:
                        self._renew()
            except LeaseLost:
                return
            except OperationalError:
                continue

    def release(self) -> None:
        """Stop renewing and delete the lease if it is still ours."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        try:
            lease = self.kube.get(f"{self._path}/{self.name}")
            if lease is not None and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                self.kube.request("DELETE", f"{self._path}/{self.name}")
        except OperationalError:
            pass

    def __enter__(self) -> ApplyLock:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

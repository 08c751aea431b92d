"""Which controller replica works on which Cluster: Leases on the management cluster, in the
controller's namespace, so N replicas share the Clusters and a dead one's are taken over.

Each replica renews a heartbeat Lease (`tke-catalog-replica-…`) and one ownership Lease per Cluster it
owns (`tke-catalog-owner-<cluster>`), with the same Lease code as apply's per-Cluster Lease (renewed in
the background, expired when its holder stops renewing or was killed on this host). A replica claims
free or expired Clusters up to its fair share (Clusters / live replicas, rounded up) and gives back
what it holds above it, so a new replica gets its share. Ownership spreads the work; apply's Lease on
the business cluster still guarantees that no two writers (replica or person) act on one Cluster at once.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass

from toolkit.adapters.kube.client import KubeClient
from toolkit.adapters.kube.lock import ApplyLock, lease_expired
from toolkit.errors import LockHeld, OperationalError

__all__ = ["Ownership", "Shares"]

_ROLE = "tke-catalog.io/controller-role"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass(frozen=True)
class Shares:
    """One look at the Leases: who holds which Cluster, and how many replicas are alive."""

    holders: dict[str, str]  # cluster → live holder identity
    replicas: int


class Ownership:
    """This replica's Clusters (`owned`), claimed and given back through Leases."""

    def __init__(self, kube: KubeClient, namespace: str, identity: str, *, duration: int = 15) -> None:
        self.kube, self.namespace, self.identity, self.duration = kube, namespace, identity, duration
        self.owned: dict[str, ApplyLock] = {}
        self._heartbeat = ApplyLock(kube, identity.replace("/", "-"), namespace=namespace, duration=duration,
                                    purpose="replica", identity=identity, labels={_ROLE: "replica"})
        self._path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"

    def start(self) -> None:
        """Announce this replica (its heartbeat Lease, renewed in the background)."""
        self._heartbeat.acquire()

    def stop(self) -> None:
        """Give back every Cluster and the heartbeat (a clean shutdown hands over at once)."""
        for name in list(self.owned):
            self.give_back(name)
        self._heartbeat.release()

    def look(self) -> Shares:
        """The live ownership Leases and the number of live replicas (one LIST)."""
        listed = self.kube.request("GET", f"{self._path}?labelSelector={_ROLE}")
        now = _now()
        holders: dict[str, str] = {}
        replicas = 0
        for lease in listed.get("items") or []:
            meta, spec = lease.get("metadata") or {}, lease.get("spec") or {}
            if lease_expired(lease, now, self.duration):
                continue
            role = (meta.get("labels") or {}).get(_ROLE)
            if role == "replica":
                replicas += 1
            elif role == "owner":
                holders[str((meta.get("annotations") or {}).get("tke-catalog.io/cluster", ""))] = str(
                    spec.get("holderIdentity", ""))
        return Shares(holders, max(replicas, 1))

    def _lock(self, cluster: str) -> ApplyLock:
        return ApplyLock(self.kube, cluster, namespace=self.namespace, duration=self.duration, purpose="owner",
                         identity=self.identity, labels={_ROLE: "owner"},
                         annotations={"tke-catalog.io/cluster": cluster})

    def rebalance(self, clusters: Iterable[str], busy: Iterable[str] = ()) -> tuple[list[str], list[str]]:
        """Drop lost Clusters, give back those above the fair share (not `busy` ones), claim free ones up
        to it. Returns (claimed, dropped)."""
        known = sorted(set(clusters))
        dropped = [name for name, lock in self.owned.items() if lock.lost is not None or name not in known]
        for name in dropped:
            self.give_back(name)
        shares = self.look()
        share = math.ceil(len(known) / shares.replicas) if known else 0
        surplus = len(self.owned) - share
        if surplus > 0:
            spare = [name for name in sorted(self.owned, key=self._order) if name not in set(busy)]
            for name in spare[:surplus]:
                self.give_back(name)
                dropped.append(name)
        claimed = []
        for name in sorted(known, key=self._order):
            if len(self.owned) >= share:
                break
            if name in self.owned or name in shares.holders:
                continue
            lock = self._lock(name)
            try:
                lock.acquire(wait=0.0)
            except (LockHeld, OperationalError):
                continue
            self.owned[name] = lock
            claimed.append(name)
        return claimed, dropped

    def _order(self, cluster: str) -> str:
        """A per-replica order of the Clusters, so replicas claiming at once mostly pick different ones."""
        return hashlib.sha256(f"{self.identity}/{cluster}".encode()).hexdigest()

    def give_back(self, cluster: str) -> None:
        lock = self.owned.pop(cluster, None)
        if lock is not None:
            lock.release()

    def count(self) -> int:
        """How many Clusters this replica owns now."""
        return len(self.owned)

    def holds(self, cluster: str) -> bool:
        lock = self.owned.get(cluster)
        return lock is not None and lock.lost is None

"""What apply and `plan --kubeconfig` touch on a cluster, behind narrow protocols, handed in by the caller.

`ClusterSession` carries helm, the per-Cluster inventory and the per-Cluster Lease; `open_session`
connects the real ones (the kube adapter and the helm CLI), and tests pass recording fakes instead, so
apply's decisions run in milliseconds without any binary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from toolkit.adapters.helm import HelmLike, ReleaseInfo
from toolkit.core.model import InstalledRelease, InstalledState

__all__ = [
    "ClusterLock",
    "ClusterSession",
    "InventoryStore",
    "installed_state",
    "open_session",
    "read_installed_state",
]


class InventoryStore(Protocol):
    """One Cluster's record of the releases tke-catalog installed (`toolkit.adapters.kube.inventory`)."""

    def load(self) -> dict[str, Any]:
        """The document `{"cluster", "releases": [...]}`; empty releases when nothing was recorded."""
        ...

    def record(self, entry: dict[str, Any]) -> None:
        """Insert or replace the entry for (namespace, name)."""
        ...

    def forget(self, namespace: str, name: str) -> None:
        """Drop the entry for (namespace, name)."""
        ...


class ClusterLock(Protocol):
    """One Cluster's apply Lease (`toolkit.adapters.kube.lock`)."""

    def acquire(self, wait: float = 0.0) -> None:
        """Take the Lease, waiting up to `wait` seconds; raises LockHeld naming the holder."""
        ...

    def release(self) -> None:
        """Stop renewing and give the Lease back if it is still ours."""
        ...


@dataclass(frozen=True)
class ClusterSession:
    """The adapters of one cluster connection: helm, and the inventory and Lease of any Cluster on it."""

    helm: HelmLike
    server: str
    server_version: str
    inventory_for: Callable[[str], InventoryStore]
    lock_for: Callable[[str], ClusterLock]
    close: Callable[[], None] = lambda: None

    def __enter__(self) -> ClusterSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_session(kubeconfig: Path, context: str | None, helm_executable: str) -> ClusterSession:
    """Connect to the kubeconfig's cluster (checking it answers) and the helm CLI pointed at it."""
    from toolkit.adapters.helm import Helm
    from toolkit.adapters.kube.client import connect
    from toolkit.adapters.kube.inventory import Inventory
    from toolkit.adapters.kube.lock import ApplyLock

    kube = connect(kubeconfig, context)
    try:
        version = kube.version()
    except BaseException:
        kube.close()
        raise
    return ClusterSession(
        helm=Helm(helm_executable, kubeconfig=kubeconfig, context=context),
        server=kube.endpoint.server,
        server_version=version,
        inventory_for=lambda cluster: Inventory(kube, cluster),
        lock_for=lambda cluster: ApplyLock(kube, cluster),
        close=kube.close,
    )


def installed_state(cluster: str, releases: list[ReleaseInfo], inventory: Mapping[str, Any]) -> InstalledState:
    """What is installed: helm's releases, with digest and values from our inventory where we own them."""
    recorded = {(r["namespace"], r["name"]): r for r in inventory.get("releases", [])}
    installed = []
    for info in releases:
        entry = recorded.get((info.namespace, info.name))
        installed.append(InstalledRelease(
            name=info.name, namespace=info.namespace, chart=info.chart_name, version=info.chart_version,
            digest=str(entry.get("digest", "")) if entry else "", values=entry.get("values") or {} if entry else {},
            status=info.status))
    owned = frozenset(f"{ns}/{name}" for ns, name in recorded)
    return InstalledState(cluster=cluster, releases=tuple(installed), inventory=owned)


def read_installed_state(session: ClusterSession, cluster: str) -> InstalledState:
    """What is installed on the cluster for `cluster` (for `plan --kubeconfig`): read-only, no Lease."""
    inventory = session.inventory_for(cluster).load()
    return installed_state(cluster, session.helm.list_releases(), inventory)

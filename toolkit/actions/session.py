"""What apply and `plan --kubeconfig` touch on a cluster, behind narrow protocols, handed in by the caller.

`ClusterSession` carries helm, the per-Cluster inventory and the per-Cluster Lease; `open_session`
connects the real ones (the kube adapter and the helm CLI), and tests pass recording fakes instead, so
apply's decisions run in milliseconds without any binary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from toolkit.adapters.helm import HelmLike, ReleaseInfo
from toolkit.adapters.kube.client import ClusterAccess
from toolkit.core.helm_release import DeployedRelease, ReleaseObject, manifest_objects
from toolkit.core.live_facts import NodeFacts
from toolkit.core.model import InstalledRelease, InstalledState

__all__ = [
    "ClusterLock",
    "ClusterSession",
    "CustomResourceDefinitions",
    "InventoryStore",
    "installed_state",
    "ReleaseRecords",
    "open_session",
    "read_state",
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

    def replace_all(self, releases: list[dict[str, Any]]) -> None:
        """Write an inventory holding exactly `releases` (the repair of an unreadable one)."""
        ...


class ClusterLock(Protocol):
    """One Cluster's apply Lease (`toolkit.adapters.kube.lock`); `identity` names this holder."""

    identity: str

    def acquire(self, wait: float = 0.0) -> None:
        """Take the Lease, waiting up to `wait` seconds; raises LockHeld naming the holder."""
        ...

    def release(self) -> None:
        """Stop renewing and give the Lease back if it is still ours."""
        ...

    def ensure_held(self) -> None:
        """Renew the Lease now; raises LeaseLost when it was deleted or taken (fencing before a write)."""
        ...


class ReleaseRecords(Protocol):
    """helm's own records of what is deployed (`toolkit.adapters.kube.releases`), read in bulk."""

    def deployed(self, namespaces: Iterable[str]) -> dict[tuple[str, str], DeployedRelease]:
        """(namespace, name) → the newest revision of each helm release in `namespaces`."""
        ...

    def missing(self, release: DeployedRelease, objects: Iterable[ReleaseObject]) -> list[ReleaseObject]:
        """The objects of the release the cluster no longer has."""
        ...

    def record(self, namespace: str, name: str) -> DeployedRelease | None:
        """The newest revision helm recorded for one release (pending ones included), or None."""
        ...

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        """The pods in `namespace` matching a label selector."""
        ...

    def history(self, namespace: str, name: str) -> list[DeployedRelease]:
        """Every revision helm keeps of one release, oldest first."""
        ...

    def namespace_exists(self, namespace: str) -> bool | None:
        """Whether the namespace exists; None when we may not look (a namespace-scoped user)."""
        ...

    def unowned(self, release: str, namespace: str,
                objects: Iterable[ReleaseObject]) -> list[tuple[ReleaseObject, str]]:
        """The objects that exist without helm's ownership of this release, with their owning release."""
        ...

    def delete(self, obj: ReleaseObject, namespace: str) -> bool:
        """Delete one object; False when it was not there."""
        ...

    def live(self, obj: ReleaseObject, namespace: str) -> dict[str, Any] | None:
        """The object as the API server has it, or None."""
        ...


class CustomResourceDefinitions(Protocol):
    """The cluster's CRDs (`toolkit.adapters.kube.crds`), for apply's CRD policy."""

    def get(self, name: str) -> dict[str, Any] | None:
        """The CRD called `name`, or None."""
        ...

    def create(self, crd: Mapping[str, Any]) -> None:
        """Create the CRD."""
        ...

    def replace(self, crd: Mapping[str, Any], resource_version: str) -> None:
        """Replace the CRD if it is still at `resource_version`."""
        ...


@dataclass(frozen=True)
class ClusterSession:
    """The adapters of one cluster connection: helm, and the inventory and Lease of any Cluster on it."""

    helm: HelmLike
    server: str
    server_version: str
    inventory_for: Callable[[str], InventoryStore]
    lock_for: Callable[[str], ClusterLock]
    records: ReleaseRecords | None = None
    crds: CustomResourceDefinitions | None = None
    nodes: Callable[[], list[NodeFacts]] = list  # the nodes' kernel and runtime, as their kubelets report them
    close: Callable[[], None] = lambda: None
    helm_path: str = ""
    helm_version: str = ""

    @property
    def helm_major(self) -> int:
        """The major version of the helm that runs (3 when unknown): it decides `--set` semantics."""
        head = self.helm_version.removeprefix("v").split(".", 1)[0]
        return int(head) if head.isdigit() else 3

    def helm_info(self) -> dict[str, str]:
        """The helm that runs, for apply's header and its JSON document."""
        return {"path": self.helm_path, "version": self.helm_version}

    def __enter__(self) -> ClusterSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_session(access: ClusterAccess, helm_executable: str, helm_source: str = "") -> ClusterSession:
    """Connect to the cluster `access` names (checking it answers) and the helm CLI pointed at the same
    one: helm gets the same --kubeconfig and --kube-context, and reads KUBECONFIG itself.

    Then the helm's version is read and checked (`helm_source` says where it came from, for a refusal)."""
    from toolkit.adapters.helm import Helm
    from toolkit.adapters.kube.client import connect
    from toolkit.adapters.kube.crds import CrdClient
    from toolkit.adapters.kube.inventory import Inventory
    from toolkit.adapters.kube.lock import ApplyLock
    from toolkit.adapters.kube.nodes import read_nodes
    from toolkit.adapters.kube.releases import ReleaseReader

    kube = connect(access)
    try:
        version = kube.version()
        helm = Helm(helm_executable, kubeconfig=Path(access.kubeconfig) if access.kubeconfig else None,
                    context=access.context, source=helm_source)
    except BaseException:
        kube.close()
        raise
    return ClusterSession(
        helm=helm,
        server=kube.server,
        server_version=version,
        inventory_for=lambda cluster: Inventory(kube, cluster),
        lock_for=lambda cluster: ApplyLock(kube, cluster),
        records=ReleaseReader(kube),
        crds=CrdClient(kube),
        nodes=lambda: read_nodes(kube),
        close=kube.close,
        helm_path=helm.executable,
        helm_version=str(helm.version),
    )


def installed_state(cluster: str, releases: list[ReleaseInfo], inventory: Mapping[str, Any],
                    deployed: Mapping[tuple[str, str], DeployedRelease] | None = None,
                    missing: Mapping[tuple[str, str], Sequence[str]] | None = None) -> InstalledState:
    """What is installed: helm's releases; the values and revision helm deployed (from its records, when
    read), what our inventory recorded, our ownership mark, and objects found missing."""
    recorded = {(r["namespace"], r["name"]): r for r in inventory.get("releases", [])}
    installed = []
    for info in releases:
        key = (info.namespace, info.name)
        entry = recorded.get(key)
        record = (deployed or {}).get(key)
        entry_values = (entry.get("values") or {}) if entry else {}
        installed.append(InstalledRelease(
            name=info.name, namespace=info.namespace, chart=record.chart if record else info.chart_name,
            version=record.version if record else info.chart_version,
            digest=str(entry.get("digest", "")) if entry else "",
            values=record.values if record is not None else entry_values, status=info.status,
            revision=info.revision,
            recorded_revision=int(entry["revision"]) if entry and str(entry.get("revision", "")).isdigit() else None,
            recorded_values=entry_values if entry else None, owner=record.owner if record else None,
            installed_by=record.description if record else "",
            missing_objects=tuple((missing or {}).get(key, ())), live=record is not None))
    owned = frozenset(f"{ns}/{name}" for ns, name in recorded)
    return InstalledState(cluster=cluster, releases=tuple(installed), inventory=owned)


def read_state(session: ClusterSession, cluster: str, inventory: Mapping[str, Any], *,
               check_objects: bool = True, namespaces: Iterable[str] | None = None
               ) -> tuple[InstalledState, list[ReleaseInfo], dict[tuple[str, str], DeployedRelease]]:
    """Everything apply and `plan --kubeconfig` compare against: helm's records (one LIST of release
    Secrets per namespace: `namespaces` and the inventory's, so a user allowed only there works as with
    plain helm; without `namespaces`, every namespace helm lists), and, with `check_objects`, the
    objects of our releases that are gone."""
    deployed: dict[tuple[str, str], DeployedRelease] = {}
    missing: dict[tuple[str, str], list[str]] = {}
    if session.records is not None and namespaces is not None:
        wanted = set(namespaces) | {str(r["namespace"]) for r in inventory.get("releases", [])}
        deployed = session.records.deployed(wanted)
        releases = [ReleaseInfo(d.name, d.namespace, d.revision, d.status, f"{d.chart}-{d.version}", "")
                    for d in deployed.values()]
    else:
        releases = session.helm.list_releases()
    if session.records is not None:
        if namespaces is None:
            deployed = session.records.deployed({r.namespace for r in releases})
        ours = {(r["namespace"], r["name"]) for r in inventory.get("releases", [])}
        for key, record in deployed.items():
            if check_objects and (key in ours or record.owner == cluster) and record.status == "deployed":
                gone = session.records.missing(record, manifest_objects(record))
                if gone:
                    missing[key] = [f"{o.kind}/{o.name}" for o in gone]
    return installed_state(cluster, releases, inventory, deployed, missing), releases, deployed


def read_installed_state(session: ClusterSession, cluster: str, namespaces: Iterable[str] | None = None
                         ) -> InstalledState:
    """What is installed on the cluster for `cluster` (for `plan --kubeconfig`), read exactly as apply
    reads it (the same namespaces, so a saved plan's fingerprint matches): read-only, no Lease."""
    inventory = session.inventory_for(cluster).load()
    return read_state(session, cluster, inventory, namespaces=namespaces)[0]

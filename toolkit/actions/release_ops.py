"""`status`, `history`, `rollback` and `uninstall`: what a Cluster installed, read from its inventory
and helm's own records, and the two changes made by hand, each under the Cluster's Lease."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.actions.session import ClusterSession
from toolkit.core.catalog import TIERS
from toolkit.core.cluster import Cluster
from toolkit.core.helm_release import DeployedRelease
from toolkit.core.waves import plan_waves
from toolkit.errors import ConflictError, InputError, UsageError

__all__ = ["StatusRow", "cluster_name", "cluster_version", "release_history", "release_status", "rollback_release", "uninstall_all"]


@dataclass(frozen=True)
class StatusRow:
    """One release a Cluster's inventory lists, as helm's newest record has it."""

    name: str
    namespace: str
    app: str
    chart: str
    version: str
    revision: int | None
    status: str
    updated: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "namespace": self.namespace, "app": self.app, "chart": self.chart,
                "version": self.version, "revision": self.revision, "status": self.status, "updated": self.updated}


def _cluster(cluster_file: Path, root: Path) -> Cluster:
    from toolkit.actions.validate import parse_cluster_text
    from toolkit.adapters.files import read_text
    from toolkit.core.findings import has_errors, plan_rejected

    parsed = parse_cluster_text(read_text(cluster_file), str(cluster_file), root)
    if parsed.cluster is None or has_errors(parsed.findings):
        raise plan_rejected(parsed.findings, str(cluster_file))
    return parsed.cluster


def cluster_name(cluster_file: Path, root: Path) -> str:
    """The Cluster's real name, which names its inventory and Lease (InputError without one)."""
    cluster = _cluster(cluster_file, root)
    if cluster.generated_name:
        raise InputError(f"{cluster_file}: metadata.name is unset; the Cluster's real name names what it installed",
                         hint="write metadata.name (the name TKEStack gave the Cluster, e.g. cls-abcd1234)")
    return cluster.name


def cluster_version(cluster_file: Path, root: Path) -> str:
    """The Kubernetes version the Cluster declares (helm renders its releases for it)."""
    return _cluster(cluster_file, root).version


def _entries(session: ClusterSession, cluster: str) -> list[dict[str, Any]]:
    return list(session.inventory_for(cluster).load().get("releases", []))


def _newest(session: ClusterSession, namespace: str, name: str) -> DeployedRelease | None:
    return session.records.record(namespace, name) if session.records is not None else None


def release_status(session: ClusterSession, cluster: str) -> list[StatusRow]:
    """Every release the Cluster's inventory lists, with helm's newest revision of it."""
    rows = []
    for entry in _entries(session, cluster):
        namespace, name = str(entry["namespace"]), str(entry["name"])
        record = _newest(session, namespace, name)
        rows.append(StatusRow(
            name=name, namespace=namespace, app=str(entry.get("app", "")),
            chart=record.chart if record else str(entry.get("chart", "")),
            version=record.version if record else str(entry.get("version", "")),
            revision=record.revision if record else None,
            status=record.status if record else "missing (helm has no record; apply reinstalls it)",
            updated=record.last_deployed if record else ""))
    return sorted(rows, key=lambda r: (r.namespace, r.name))


def _ours(session: ClusterSession, cluster: str, release: str) -> dict[str, Any]:
    """The inventory entry of `release` (`name` or `namespace/name`); InputError when the Cluster did not install it."""
    namespace, _, name = release.rpartition("/")
    for entry in _entries(session, cluster):
        if entry["name"] == name and namespace in ("", entry["namespace"]):
            return entry
    raise InputError(f"release {release!r} is not one that Cluster {cluster} installed with tke-catalog",
                     hint="`tke-catalog status CLUSTER.yaml` lists the releases it installed")


def release_history(session: ClusterSession, cluster: str, release: str) -> list[DeployedRelease]:
    """Every revision helm keeps of one of the Cluster's releases, oldest first."""
    entry = _ours(session, cluster, release)
    if session.records is None:
        return []
    return session.records.history(str(entry["namespace"]), str(entry["name"]))


def rollback_release(session: ClusterSession, cluster: str, release: str, revision: int | None, *, timeout: str,
                     wait: bool, progress: Callable[[str], None], lock_timeout: float = 0.0) -> DeployedRelease | None:
    """Roll one of the Cluster's releases back (to the previous revision without `revision`), under the
    Lease, and record the result in the inventory, so the next plan shows the upgrade the Cluster file
    still asks for, not drift."""
    entry = _ours(session, cluster, release)
    namespace, name = str(entry["namespace"]), str(entry["name"])
    lock = session.lock_for(cluster)
    lock.acquire(wait=lock_timeout)
    try:
        lock.ensure_held()
        session.helm.rollback(name, namespace, revision, timeout=timeout, wait=wait)
        record = _newest(session, namespace, name)
        if record is not None:
            lock.ensure_held()
            session.inventory_for(cluster).record({
                **entry, "version": record.version, "values": dict(record.values), "revision": record.revision,
                "status": record.status, "digest": ""})
        progress(f"{name}: rolled back to revision {revision or 'previous'}"
                 + (f" (now revision {record.revision}, chart {record.chart} {record.version})" if record else ""))
        return record
    finally:
        lock.release()


def uninstall_all(session: ClusterSession, cluster: str, root: Path, *, allow_critical_removal: bool, timeout: str,
                  progress: Callable[[str], None], lock_timeout: float = 0.0) -> list[tuple[str, str]]:
    """Uninstall every release the Cluster's inventory lists in the reverse of the install order (addons
    first, dependents before what they depend on, the network last), under the Lease; critical apps (the CNI, DNS) only with
    `allow_critical_removal`. Returns (namespace/name, outcome) in the order they went."""
    from toolkit.adapters.project import load_catalog

    catalog = load_catalog(root)
    entries = _entries(session, cluster)

    def key(entry: dict[str, Any]) -> str:
        return f"{entry['namespace']}/{entry['name']}"

    def tier(entry: dict[str, Any]) -> int:
        app = catalog.get(str(entry.get("app", "")))
        return app.tier_index if app is not None else len(TIERS) - 1

    # the install order's waves (tiers, then dependsOn), walked backwards: dependents go first
    by_app = {str(e.get("app", "")): key(e) for e in entries}

    def needs(entry: dict[str, Any]) -> list[str]:
        app = catalog.get(str(entry.get("app", "")))
        return [by_app[d] for d in (app.depends_on if app is not None else ()) if d in by_app]

    deps = {key(e): needs(e) for e in entries}
    waves = plan_waves(deps, {key(e): tier(e) for e in entries})

    critical = [e for e in entries if (app := catalog.get(str(e.get("app", "")))) is not None and app.critical]
    if critical and not allow_critical_removal:
        raise UsageError(f"refusing to uninstall critical apps ({', '.join(str(e['name']) for e in critical)}): "
                         "without them the cluster has no network or DNS",
                         hint="pass --allow-critical-removal to uninstall them too")
    lock = session.lock_for(cluster)
    lock.acquire(wait=lock_timeout)
    done: list[tuple[str, str]] = []
    try:
        inventory = session.inventory_for(cluster)
        for entry in sorted(entries, key=lambda e: (-waves[key(e)], key(e))):
            namespace, name = str(entry["namespace"]), str(entry["name"])
            record = _newest(session, namespace, name)
            if record is not None and record.owner not in (None, cluster):
                raise ConflictError(f"{namespace}/{name} now belongs to Cluster {record.owner}; left untouched",
                                    hint="uninstall it from that Cluster")
            lock.ensure_held()
            if record is not None:
                session.helm.uninstall(name, namespace, timeout=timeout)
            inventory.forget(namespace, name)
            done.append((f"{namespace}/{name}", "uninstalled" if record is not None else "forgotten (was not installed)"))
            progress(f"{name}: {done[-1][1]}")
    finally:
        lock.release()
    return done

"""Recording fakes for apply's seams: helm (releases kept in memory, failures on demand) and the
Kubernetes API (an in-memory object store with resourceVersions and 409s), so the real Inventory and
ApplyLock run on top of it. Every call is recorded for the tests to assert on."""

from __future__ import annotations

import copy
import io
import tarfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.actions.session import ClusterSession
from toolkit.adapters.helm import HelmRun, ReleaseInfo
from toolkit.adapters.kube.inventory import Inventory
from toolkit.adapters.kube.lock import ApplyLock
from toolkit.core.chart import split_chart_label
from toolkit.core.helm_release import (
    HOLDER_LABEL,
    OWNER_LABEL,
    DeployedRelease,
    ReleaseObject,
)
from toolkit.core.yamldoc import fast_load_plain
from toolkit.errors import HelmError, ObjectConflict

__all__ = ["FakeHelm", "FakeKube", "FakeRecords", "FakeRevision", "fake_session"]


@dataclass
class FakeRevision:
    """One revision of a release as helm would store it."""

    revision: int
    status: str
    chart: str  # helm's NAME-VERSION label
    values: dict[str, Any]
    labels: dict[str, str] = field(default_factory=dict)
    description: str = ""
    when: str = "2026-12-01T00:00:00Z"


def _chart_label(archive: Path) -> str:
    """NAME-VERSION from the archive's own Chart.yaml (the bytes apply really handed to helm)."""
    with tarfile.open(fileobj=io.BytesIO(archive.read_bytes()), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.name.count("/") == 1 and member.name.endswith("/Chart.yaml"):
                extracted = tar.extractfile(member)
                assert extracted is not None
                meta = fast_load_plain(extracted.read().decode())
                assert isinstance(meta, dict)
                return f"{meta['name']}-{meta['version']}"
    raise AssertionError(f"{archive}: no Chart.yaml")


@dataclass
class FakeHelm:
    """helm in memory: `calls` records (verb, namespace/name) in order; `fail` names releases whose
    next upgrade_install fails (after storing a failed revision, as helm does); `delay` slows each one."""

    releases: dict[tuple[str, str], list[FakeRevision]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)
    fail_cleanup: set[str] = field(default_factory=set)
    delay: float = 0.0
    create_namespace: dict[str, bool] = field(default_factory=dict)
    running: int = 0
    most_running: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _record(self, verb: str, namespace: str, name: str) -> None:
        with self._lock:
            self.calls.append((verb, f"{namespace}/{name}"))

    def verbs(self, *wanted: str) -> list[tuple[str, str]]:
        """The recorded calls, only those whose verb is one of `wanted` (all when none)."""
        return [c for c in self.calls if not wanted or c[0] in wanted]

    def install_as(self, namespace: str, name: str, chart: str, values: dict[str, Any] | None = None,
                   status: str = "deployed", labels: dict[str, str] | None = None, description: str = "",
                   when: str = "2026-12-01T00:00:00Z") -> None:
        """Put a release in place as if someone (or an earlier run) had installed it."""
        history = self.releases.setdefault((namespace, name), [])
        history.append(FakeRevision(len(history) + 1, status, chart, dict(values or {}), dict(labels or {}),
                                    description, when))

    def lint(self, chart: Path, values_files: Sequence[Path] = ()) -> HelmRun:
        return HelmRun(True, "")

    def template(self, chart: Path, release: str, namespace: str, values: dict[str, Any], *,
                 kube_version: str | None = None, api_versions: Sequence[str] = ()) -> list[dict[str, Any]]:
        return []

    def upgrade_install(self, release: str, chart: Path, namespace: str, values: dict[str, Any], *,
                        wait: bool, timeout: str, atomic: bool = False, description: str = "",
                        labels: dict[str, str] | None = None, create_namespace: bool = True,
                        take_ownership: bool = False) -> dict[str, Any]:
        self._record("upgrade_install", namespace, release)
        self.create_namespace[namespace] = create_namespace
        with self._lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            if self.delay:
                time.sleep(self.delay)
            label = _chart_label(chart)
            with self._lock:
                history = self.releases.setdefault((namespace, release), [])
                for old in history:
                    if old.status == "deployed":
                        old.status = "superseded"
                failed = release in self.fail
                history.append(FakeRevision(len(history) + 1, "failed" if failed else "deployed", label,
                                            copy.deepcopy(values), dict(labels or {}), description))
            if failed:
                self.fail.discard(release)
                raise HelmError(f"helm upgrade --install of {namespace}/{release} failed: boom", stderr="boom")
            return {"name": release, "namespace": namespace, "version": len(history)}
        finally:
            with self._lock:
                self.running -= 1

    def uninstall(self, release: str, namespace: str, *, timeout: str, wait: bool = False) -> None:
        self._record("uninstall", namespace, release)
        if release in self.fail_cleanup:
            raise HelmError(f"helm uninstall of {namespace}/{release} failed", stderr="cleanup failed")
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.releases.pop((namespace, release), None)
        self._record("uninstalled", namespace, release)

    def rollback(self, release: str, namespace: str, revision: int | None, *, timeout: str,
                 wait: bool = False) -> None:
        self._record("rollback", namespace, release)
        with self._lock:
            history = self.releases[(namespace, release)]
            good = [r for r in history if r.status in ("deployed", "superseded")]
            target = good[-1] if revision is None else history[revision - 1]
            for old in history:
                if old.status in ("deployed", "pending-upgrade", "pending-install", "failed"):
                    old.status = "superseded" if old.status == "deployed" else old.status
            history.append(FakeRevision(len(history) + 1, "deployed", target.chart, copy.deepcopy(target.values),
                                        dict(target.labels), f"Rollback to {target.revision}"))

    def list_releases(self) -> list[ReleaseInfo]:
        self.calls.append(("list", "*"))
        with self._lock:
            return [ReleaseInfo(name, ns, h[-1].revision, h[-1].status, h[-1].chart, "")
                    for (ns, name), h in sorted(self.releases.items()) if h]

    def get_values(self, release: str, namespace: str) -> dict[str, Any]:
        return copy.deepcopy(self.releases[(namespace, release)][-1].values)

    def revisions(self) -> dict[str, int]:
        """name → latest revision, for asserting that a no-op made none."""
        return {name: h[-1].revision for (_, name), h in self.releases.items() if h}


@dataclass
class FakeKube:
    """The few Kubernetes API calls the Inventory and ApplyLock make, over an in-memory store."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _version: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, path: str) -> Any:
        with self._lock:
            self.requests.append(("GET", path))
            found = self.objects.get(path)
            return copy.deepcopy(found) if found is not None else None

    def request(self, method: str, path: str, body: Any = None, *, ok_missing: bool = False) -> Any:
        with self._lock:
            self.requests.append((method, path))
            if method == "DELETE":
                self.objects.pop(path, None)
                return None
            target = path if method == "PUT" else f"{path}/{body['metadata']['name']}"
            existing = self.objects.get(target)
            if method == "POST" and existing is not None:
                raise ObjectConflict(f"POST {path}: already exists")
            if method == "PUT" and (existing is None or existing["metadata"]["resourceVersion"]
                                    != body["metadata"].get("resourceVersion")):
                raise ObjectConflict(f"PUT {path}: conflict")
            self._version += 1
            stored = copy.deepcopy(body)
            stored["metadata"]["resourceVersion"] = str(self._version)
            self.objects[target] = stored
            return copy.deepcopy(stored)

    def lease(self, name: str, namespace: str = "kube-system") -> dict[str, Any] | None:
        return self.objects.get(f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}")

    def writes(self, kinds: Iterable[str] = ("secrets",)) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET" and any(f"/{k}" in r[1] for k in kinds)]


@dataclass
class FakeRecords:
    """helm's release records as the fake helm keeps them; `gone` names objects deleted by hand."""

    helm: FakeHelm
    gone: dict[tuple[str, str], list[ReleaseObject]] = field(default_factory=dict)
    namespaces: set[str] | None = None  # None: every namespace exists

    def deployed(self, namespaces: Iterable[str]) -> dict[tuple[str, str], DeployedRelease]:
        wanted = set(namespaces)
        out = {}
        for (ns, name), history in self.helm.releases.items():
            if ns in wanted and history:
                top = history[-1]
                chart, version = split_chart_label(top.chart)
                out[(ns, name)] = DeployedRelease(name, ns, top.revision, top.status, chart, version,
                                                  copy.deepcopy(top.values), "", top.labels.get(OWNER_LABEL),
                                                  top.description, f"sh.helm.release.v1.{name}.v{top.revision}",
                                                  top.when, top.labels.get(HOLDER_LABEL))
        return out

    def missing(self, release: DeployedRelease, objects: Iterable[ReleaseObject]) -> list[ReleaseObject]:
        return list(self.gone.get((release.namespace, release.name), []))

    def unowned(self, release: str, namespace: str,
                objects: Iterable[ReleaseObject]) -> list[tuple[ReleaseObject, str]]:
        return []

    def delete(self, obj: ReleaseObject, namespace: str) -> bool:
        return False

    def live(self, obj: ReleaseObject, namespace: str) -> dict[str, Any] | None:
        return None

    def record(self, namespace: str, name: str) -> DeployedRelease | None:
        return self.deployed([namespace]).get((namespace, name))

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        return []

    def history(self, namespace: str, name: str) -> list[DeployedRelease]:
        found = self.record(namespace, name)
        return [found] if found is not None else []

    def namespace_exists(self, namespace: str) -> bool | None:
        return True if self.namespaces is None else namespace in self.namespaces


def fake_session(helm: FakeHelm, kube: FakeKube, records: FakeRecords | None = None) -> ClusterSession:
    """A ClusterSession whose helm is the fake and whose inventory and Lease are the real classes on
    the fake API."""
    return ClusterSession(helm=helm, server="https://fake.invalid", server_version="v1.30.2",
                          inventory_for=lambda cluster: Inventory(kube, cluster),  # type: ignore[arg-type]
                          lock_for=lambda cluster: ApplyLock(kube, cluster),  # type: ignore[arg-type]
                          records=records if records is not None else FakeRecords(helm))

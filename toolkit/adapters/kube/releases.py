"""What helm deployed, read from the cluster in bulk: release Secrets (one LIST per namespace), our
ownership mark on them, and whether a release's objects still exist (API discovery, then one GET each)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from toolkit.adapters.kube.client import KubeClient
from toolkit.core.helm_release import (
    DeployedRelease,
    ReleaseObject,
    decode_release_secret,
    latest_releases,
)
from toolkit.errors import ClusterError

__all__ = ["ReleaseReader"]


class ReleaseReader:
    """Reads helm's release records and the objects they made; caches API discovery per client."""

    def __init__(self, kube: KubeClient) -> None:
        self.kube = kube
        self._resources: dict[str, dict[str, tuple[str, bool]]] = {}
        self._lock = threading.Lock()

    def deployed(self, namespaces: Iterable[str]) -> dict[tuple[str, str], DeployedRelease]:
        """(namespace, name) → newest revision of every helm release in `namespaces`."""
        secrets: list[dict[str, Any]] = []
        for namespace in sorted(set(namespaces)):
            listed = self.kube.get(f"/api/v1/namespaces/{namespace}/secrets?labelSelector=owner%3Dhelm")
            secrets += (listed or {}).get("items") or []
        return latest_releases(secrets)

    def record(self, namespace: str, name: str) -> DeployedRelease | None:
        """The newest revision helm recorded for one release (pending ones included), or None."""
        selector = quote(f"owner=helm,name={name}")
        listed = self.kube.get(f"/api/v1/namespaces/{quote(namespace)}/secrets?labelSelector={selector}")
        return latest_releases((listed or {}).get("items") or []).get((namespace, name))

    def history(self, namespace: str, name: str) -> list[DeployedRelease]:
        """Every revision helm keeps of one release, oldest first."""
        selector = quote(f"owner=helm,name={name}")
        listed = self.kube.get(f"/api/v1/namespaces/{quote(namespace)}/secrets?labelSelector={selector}")
        revisions = [decode_release_secret(secret) for secret in (listed or {}).get("items") or []]
        return sorted((r for r in revisions if r is not None and r.name == name), key=lambda r: r.revision)

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        """The pods in `namespace` matching the label selector `selector`."""
        listed = self.kube.get(f"/api/v1/namespaces/{quote(namespace)}/pods?labelSelector={quote(selector)}")
        return list((listed or {}).get("items") or [])

    def namespace_exists(self, namespace: str) -> bool | None:
        """Whether the namespace exists; None when the API does not let us look (403)."""
        try:
            return self.kube.get(f"/api/v1/namespaces/{quote(namespace)}") is not None
        except ClusterError as exc:
            if exc.status == 403:
                return None
            raise

    def _resources_of(self, api_version: str) -> dict[str, tuple[str, bool]]:
        """kind → (plural resource, namespaced) for one group/version, from API discovery."""
        with self._lock:
            if api_version not in self._resources:
                path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
                listed = self.kube.get(path) or {}
                self._resources[api_version] = {
                    r["kind"]: (r["name"], bool(r.get("namespaced")))
                    for r in listed.get("resources") or [] if "/" not in r.get("name", "")}
            return self._resources[api_version]

    def _path(self, obj: ReleaseObject, namespace: str) -> str | None:
        """The object's API path (namespaced kinds in its namespace, else `namespace`); None for a kind
        this server does not serve."""
        known = self._resources_of(obj.api_version).get(obj.kind)
        if known is None:
            return None
        plural, namespaced = known
        base = "/api/v1" if obj.api_version == "v1" else f"/apis/{obj.api_version}"
        where = f"/namespaces/{quote(obj.namespace or namespace)}" if namespaced else ""
        return f"{base}{where}/{plural}/{quote(obj.name)}"

    def _live(self, obj: ReleaseObject, namespace: str) -> tuple[bool, dict[str, Any] | None]:
        """(judged, the live object or None): not judged for a kind this server does not serve (yet) or an
        object we may not read."""
        path = self._path(obj, namespace)
        if path is None:
            return False, None
        try:
            live = self.kube.get(path)
        except ClusterError:
            return False, None
        return True, live if isinstance(live, dict) else None

    def unowned(self, release: str, namespace: str,
                objects: Iterable[ReleaseObject]) -> list[tuple[ReleaseObject, str]]:
        """Objects a release about to be installed would create that already exist without helm's
        ownership annotations for this release (kubeadm's CoreDNS, manifests applied by hand, another
        release's objects), each with its owner as helm recorded it (`ns/name`, or "")."""
        found = []
        for obj in objects:
            _, live = self._live(obj, namespace)
            if live is None:
                continue
            annotations = (live.get("metadata") or {}).get("annotations") or {}
            owner_name = annotations.get("meta.helm.sh/release-name")
            owner_namespace = annotations.get("meta.helm.sh/release-namespace")
            if owner_name != release or owner_namespace != namespace:
                found.append((obj, f"{owner_namespace}/{owner_name}" if owner_name else ""))
        return found

    def live(self, obj: ReleaseObject, namespace: str) -> dict[str, Any] | None:
        """The object as the API server has it, or None (missing, unreadable, or a kind not served)."""
        return self._live(obj, namespace)[1]

    def delete(self, obj: ReleaseObject, namespace: str) -> bool:
        """Delete the object (background propagation); False when it was not there or its kind is not served."""
        path = self._path(obj, namespace)
        if path is None:
            return False
        answer = self.kube.request("DELETE", path,
                                   {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
                                   ok_missing=True)
        return answer is not None

    def missing(self, release: DeployedRelease, objects: Iterable[ReleaseObject]) -> list[ReleaseObject]:
        """The release's objects the API server no longer has (deleted by hand, or never created)."""
        gone = []
        for obj in objects:
            judged, live = self._live(obj, release.namespace)
            if judged and live is None:
                gone.append(obj)
        return gone

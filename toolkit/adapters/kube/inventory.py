"""The per-Cluster inventory: which releases this toolkit installed for a Cluster, with the chart
digest and values it installed them with. Kept in the cluster as a Secret in kube-system (values may
hold secrets), updated after every release so an interrupted apply can be resumed."""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any

from toolkit.adapters.kube.client import KubeClient
from toolkit.errors import ObjectConflict

__all__ = ["Inventory", "inventory_name"]

_KEY = "inventory.json"


def inventory_name(cluster: str) -> str:
    """The Secret's name for a Cluster (a DNS label, at most 63 characters)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", cluster.lower()).strip("-") or "cluster"
    return f"tke-catalog-inventory-{slug}"[:63].rstrip("-")


class Inventory:
    """Read and update one Cluster's inventory; safe to call from several apply workers."""

    def __init__(self, kube: KubeClient, cluster: str, namespace: str = "kube-system") -> None:
        self.kube, self.cluster, self.namespace = kube, cluster, namespace
        self.name = inventory_name(cluster)
        self._lock = threading.Lock()
        self._path = f"/api/v1/namespaces/{namespace}/secrets"

    def _read(self) -> tuple[dict[str, Any], str | None]:
        secret = self.kube.get(f"{self._path}/{self.name}")
        if secret is None:
            return {"cluster": self.cluster, "releases": []}, None
        raw = (secret.get("data") or {}).get(_KEY)
        data = json.loads(base64.b64decode(raw)) if raw else {"cluster": self.cluster, "releases": []}
        return data, str(secret["metadata"]["resourceVersion"])

    def load(self) -> dict[str, Any]:
        """The state document `{"cluster", "releases": [...]}` (empty when nothing was installed yet)."""
        return self._read()[0]

    def _write(self, data: dict[str, Any], version: str | None) -> None:
        body = {
            "apiVersion": "v1", "kind": "Secret", "type": "tke-catalog.io/inventory",
            "metadata": {"name": self.name, "namespace": self.namespace,
                         "labels": {"app.kubernetes.io/managed-by": "tke-catalog"},
                         "annotations": {"tke-catalog.io/cluster": self.cluster}},
            "data": {_KEY: base64.b64encode(json.dumps(data, sort_keys=True).encode()).decode()},
        }
        if version is None:
            self.kube.request("POST", self._path, body)
        else:
            body["metadata"]["resourceVersion"] = version  # type: ignore[index]
            self.kube.request("PUT", f"{self._path}/{self.name}", body)

    def _update(self, change: Any) -> None:
        with self._lock:
            for _ in range(5):
                data, version = self._read()
                change(data["releases"])
                try:
                    self._write(data, version)
                    return
                except ObjectConflict:
                    continue
            raise ObjectConflict(f"inventory {self.namespace}/{self.name} kept changing under us")

    def record(self, entry: dict[str, Any]) -> None:
        """Insert or replace the entry for (namespace, name)."""
        def change(releases: list[dict[str, Any]]) -> None:
            releases[:] = [r for r in releases if (r["namespace"], r["name"]) != (entry["namespace"], entry["name"])]
            releases.append(entry)
            releases.sort(key=lambda r: (r["namespace"], r["name"]))
        self._update(change)

    def forget(self, namespace: str, name: str) -> None:
        """Drop the entry for (namespace, name) after an uninstall."""
        def change(releases: list[dict[str, Any]]) -> None:
            releases[:] = [r for r in releases if (r["namespace"], r["name"]) != (namespace, name)]
        self._update(change)

"""The per-Cluster inventory: which releases this toolkit installed for a Cluster, with the chart
digest and values it installed them with. Kept in the cluster as a Secret in kube-system (values may
hold secrets), updated after every release so an interrupted apply can be resumed."""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from typing import Any

from toolkit.adapters.kube.client import KubeClient
from toolkit.errors import InventoryCorrupt, ObjectConflict

__all__ = ["FORMAT_VERSION", "Inventory", "inventory_name"]

_KEY = "inventory.json"
FORMAT_VERSION = 2
"""Version 2 adds `formatVersion` itself; version 1 documents (none) are read and rewritten."""


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
            return {"formatVersion": FORMAT_VERSION, "cluster": self.cluster, "releases": []}, None
        raw = (secret.get("data") or {}).get(_KEY)
        data: dict[str, Any] = self._decoded(secret, raw) if raw else {"cluster": self.cluster, "releases": []}
        data["formatVersion"] = FORMAT_VERSION  # version 1 had none; the next write rewrites it
        return data, str(secret["metadata"]["resourceVersion"])

    def _decoded(self, secret: dict[str, Any], raw: Any) -> dict[str, Any]:
        """The inventory document, or InventoryCorrupt naming the Secret and the repair."""
        where = f"inventory Secret {self.namespace}/{self.name}"
        repair = (f"repair it with `tke-catalog apply CLUSTER.yaml --rebuild-inventory` (rebuilt from the ownership "
                  f"marks on helm's release Secrets), or delete the Secret if it is not tke-catalog's")
        owner = ((secret.get("metadata") or {}).get("annotations") or {}).get("tke-catalog.io/cluster")
        if secret.get("type") != "tke-catalog.io/inventory" or owner not in (None, self.cluster):
            raise InventoryCorrupt(f"{where} is not this Cluster's inventory (type {secret.get('type')!r}, "
                                   f"cluster {owner!r})", hint=repair)
        try:
            data = json.loads(base64.b64decode(raw, validate=True))
        except (ValueError, binascii.Error) as exc:
            raise InventoryCorrupt(f"{where} holds no readable JSON ({type(exc).__name__})", hint=repair) from exc
        releases = data.get("releases") if isinstance(data, dict) else None
        if not isinstance(releases, list) or not all(
                isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("namespace"), str)
                for r in releases):
            raise InventoryCorrupt(f"{where} is not an inventory document (no list of releases with name and "
                                   "namespace)", hint=repair)
        if isinstance(data.get("formatVersion"), int) and data["formatVersion"] > FORMAT_VERSION:
            raise InventoryCorrupt(f"{where} has format version {data['formatVersion']}, newer than this "
                                   f"tke-catalog reads ({FORMAT_VERSION})", hint="upgrade tke-catalog")
        document: dict[str, Any] = data
        return document

    def replace_all(self, releases: list[dict[str, Any]]) -> None:
        """Write a new inventory holding exactly `releases`, over whatever is there (the rebuild)."""
        with self._lock:
            secret = self.kube.get(f"{self._path}/{self.name}")
            version = str(secret["metadata"]["resourceVersion"]) if secret is not None else None
            self._write({"formatVersion": FORMAT_VERSION, "cluster": self.cluster,
                         "releases": sorted(releases, key=lambda r: (r["namespace"], r["name"]))}, version)

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

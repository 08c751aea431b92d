"""CustomResourceDefinitions on the API server: read, create, replace (apply's CRD policy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from toolkit.adapters.kube.client import KubeClient

__all__ = ["CrdClient"]

_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


class CrdClient:
    """The cluster's CRDs through one client."""

    def __init__(self, kube: KubeClient) -> None:
        self.kube = kube

    def get(self, name: str) -> dict[str, Any] | None:
        """The CRD called `name`, or None."""
        found = self.kube.get(f"{_PATH}/{quote(name)}")
        return dict(found) if isinstance(found, Mapping) else None

    def create(self, crd: Mapping[str, Any]) -> None:
        """Create the CRD."""
        self.kube.request("POST", _PATH, dict(crd))

    def replace(self, crd: Mapping[str, Any], resource_version: str) -> None:
        """Replace the CRD, only if it is still at `resource_version` (a 409 otherwise)."""
        metadata = {**(crd.get("metadata") or {}), "resourceVersion": resource_version}
        name = quote(str(metadata.get("name", "")))
        self.kube.request("PUT", f"{_PATH}/{name}", {**crd, "metadata": metadata})

"""The Cluster objects the controller reconciles, on the management cluster: list and watch them, write
their status through the status subresource, keep our finalizer, post Events about them, and read the
credentials of the business clusters they describe.

The group, version and plural are configurable (`Resource`), so the CRD tke-catalog ships and TKEStack's
own aggregated `platform.tkestack.io/v1` API are served by the same code. Every write carries the
resourceVersion it was computed from (HTTP 409 → ObjectConflict: read again and retry).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.adapters.kube.client import KubeClient
from toolkit.errors import ClusterError, InputError

__all__ = ["ClusterObjects", "Events", "ManagementReads", "Resource", "read_cluster_credential", "read_kubeconfig_secret"]


@dataclass(frozen=True)
class Resource:
    """Which API serves the Cluster objects: `platform.tkestack.io/v1` `clusters` by default."""

    group: str = "platform.tkestack.io"
    version: str = "v1"
    plural: str = "clusters"
    kind: str = "Cluster"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def collection(self) -> str:
        """The path of the collection (cluster-scoped, as TKEStack's Cluster is)."""
        return f"/apis/{self.group}/{self.version}/{self.plural}"

    @classmethod
    def parse(cls, text: str) -> Resource:
        """`plural.group/version` (e.g. `clusters.platform.tkestack.io/v1`), as the --resource flag takes it."""
        name, _, version = text.partition("/")
        plural, _, group = name.partition(".")
        if not (plural and group and version):
            raise InputError(f"--resource {text!r}: expected PLURAL.GROUP/VERSION",
                             hint="e.g. clusters.platform.tkestack.io/v1")
        return cls(group=group, version=version, plural=plural)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ClusterObjects:
    """Reads and writes of the Cluster objects of one management cluster."""

    def __init__(self, kube: KubeClient, resource: Resource = Resource()) -> None:
        self.kube, self.resource = kube, resource

    def _path(self, name: str) -> str:
        return f"{self.resource.collection}/{name}"

    def list_all(self) -> tuple[list[dict[str, Any]], str]:
        """Every Cluster object, and the collection's resourceVersion to watch from."""
        listed = self.kube.request("GET", self.resource.collection)
        return list(listed.get("items") or []), str((listed.get("metadata") or {}).get("resourceVersion", ""))

    def watch(self, resource_version: str, timeout: int = 60) -> Iterator[dict[str, Any]]:
        """The collection's watch events after `resource_version` (see `KubeClient.watch`)."""
        return self.kube.watch(self.resource.collection, resource_version, timeout=timeout)

    def get(self, name: str) -> dict[str, Any] | None:
        found = self.kube.get(self._path(name))
        return found if isinstance(found, dict) else None

    def write_status(self, obj: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
        """Replace the object's status (computed from `obj` at its resourceVersion) through /status."""
        body = {"apiVersion": obj.get("apiVersion", self.resource.api_version), "kind": obj.get("kind", self.resource.kind),
                "metadata": {"name": obj["metadata"]["name"], "resourceVersion": obj["metadata"]["resourceVersion"]},
                "status": dict(status)}
        return dict(self.kube.request("PATCH", f"{self._path(obj['metadata']['name'])}/status", body,
                                      content_type="application/merge-patch+json"))

    def set_finalizers(self, obj: Mapping[str, Any], finalizers: list[str]) -> dict[str, Any]:
        """Write `finalizers` on the object, if it is still at the resourceVersion `obj` was read at."""
        body = {"metadata": {"resourceVersion": obj["metadata"]["resourceVersion"], "finalizers": finalizers or None}}
        return dict(self.kube.request("PATCH", self._path(obj["metadata"]["name"]), body,
                                      content_type="application/merge-patch+json"))


class Events:
    """Kubernetes Events about Cluster objects (core/v1, in `namespace`: cluster-scoped objects' events
    live in `default`, where `kubectl describe` looks), from `component`."""

    def __init__(self, kube: KubeClient, resource: Resource = Resource(), *, namespace: str = "default",
                 component: str = "tke-catalog-controller") -> None:
        self.kube, self.resource, self.namespace, self.component = kube, resource, namespace, component

    def emit(self, obj: Mapping[str, Any], kind: str, reason: str, message: str) -> None:
        """Post one Event (`kind` Normal or Warning); an API failure is not the reconcile's failure."""
        meta = obj.get("metadata") or {}
        now = _now()
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta.get('name', 'cluster')}.{uuid.uuid4().hex[:16]}", "namespace": self.namespace},
            "involvedObject": {"apiVersion": self.resource.api_version, "kind": self.resource.kind,
                               "name": meta.get("name"), "uid": meta.get("uid"),
                               "resourceVersion": meta.get("resourceVersion")},
            "reason": reason, "message": message[:1024], "type": kind,
            "source": {"component": self.component}, "reportingComponent": self.component,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
        }
        try:
            self.kube.request("POST", f"/api/v1/namespaces/{self.namespace}/events", event)
        except ClusterError:
            pass


def _decoded(secret: Mapping[str, Any], key: str) -> str | None:
    raw = (secret.get("data") or {}).get(key)
    if raw is None:
        return None
    try:
        return base64.b64decode(raw).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def read_kubeconfig_secret(kube: KubeClient, namespace: str, cluster: str) -> str | None:
    """The kubeconfig in the Secret `<cluster>-kubeconfig` (key `value`, Cluster API's convention), or
    None when there is no such Secret; InputError when it has no readable `value`."""
    secret = kube.get(f"/api/v1/namespaces/{namespace}/secrets/{cluster}-kubeconfig")
    if secret is None:
        return None
    text = _decoded(secret, "value")
    if not text:
        raise InputError(f"Secret {namespace}/{cluster}-kubeconfig has no readable key `value`",
                         hint="store the business cluster's kubeconfig under the key `value`")
    return text


def read_cluster_credential(kube: KubeClient, name: str) -> dict[str, Any] | None:
    """TKEStack's ClusterCredential `name` (platform.tkestack.io/v1, cluster-scoped), or None."""
    found = kube.get(f"/apis/platform.tkestack.io/v1/clustercredentials/{name}")
    return found if isinstance(found, dict) else None


class ManagementReads:
    """The business clusters' credentials, read on the management cluster (`Management` in reconcile)."""

    def __init__(self, kube: KubeClient, namespace: str) -> None:
        self.kube, self.namespace = kube, namespace

    def kubeconfig_secret(self, cluster: str) -> str | None:
        return read_kubeconfig_secret(self.kube, self.namespace, cluster)

    def cluster_credential(self, name: str) -> dict[str, Any] | None:
        return read_cluster_credential(self.kube, name)

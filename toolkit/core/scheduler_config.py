"""kube-scheduler's configuration for the extenders a Cluster's apps need. Pure.

Charts that are kube-scheduler extenders (galaxy-ipam, gpu-quota-admission) render a ConfigMap labelled
`tke-catalog.io/scheduler-extender` whose `extender.yaml` holds their `extenders` entries;
`scheduler_configuration` merges them into one KubeSchedulerConfiguration in the API the Cluster's
Kubernetes serves (the extender fields are the same from v1beta1 to v1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from toolkit.errors import InputError

__all__ = ["EXTENDER_LABEL", "extenders_of", "scheduler_api_version", "scheduler_configuration"]

EXTENDER_LABEL = "tke-catalog.io/scheduler-extender"


def scheduler_api_version(minor: int) -> str:
    """The kubescheduler.config.k8s.io version Kubernetes 1.`minor` reads: v1beta1 up to 1.21, v1beta2 on
    1.22, v1beta3 on 1.23-1.24, v1 from 1.25 (v1beta2 went in 1.28, v1beta3 in 1.29)."""
    if minor < 19:
        raise InputError(f"Kubernetes 1.{minor} has no KubeSchedulerConfiguration with extenders",
                         hint="kube-scheduler configuration files need Kubernetes 1.19 or newer")
    return "v1beta1" if minor <= 21 else "v1beta2" if minor == 22 else "v1beta3" if minor <= 24 else "v1"


def extenders_of(objects: Sequence[Mapping[str, Any]], parse: Any) -> list[dict[str, Any]]:
    """The extender entries in rendered objects: the `extender.yaml` of ConfigMaps carrying the label,
    read with `parse` (text → data)."""
    found: list[dict[str, Any]] = []
    for obj in objects:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if obj.get("kind") != "ConfigMap" or str(labels.get(EXTENDER_LABEL)) != "true":
            continue
        entries = parse(((obj.get("data") or {}).get("extender.yaml")) or "[]")
        found.extend(dict(e) for e in entries or [] if isinstance(e, Mapping))
    return found


def scheduler_configuration(extenders: Sequence[Mapping[str, Any]], minor: int, *,
                            kubeconfig: str = "/etc/kubernetes/scheduler.conf") -> dict[str, Any]:
    """One KubeSchedulerConfiguration calling every extender, for Kubernetes 1.`minor`. Two extenders that
    manage the same resource are refused: kube-scheduler would call both for it."""
    owners: dict[str, str] = {}
    for extender in extenders:
        for resource in extender.get("managedResources") or []:
            name = str(resource.get("name"))
            if name in owners:
                raise InputError(f"two scheduler extenders manage {name}: {owners[name]} and {extender.get('urlPrefix')}",
                                 hint="keep one app that owns the resource (disable the other in the Cluster)")
            owners[name] = str(extender.get("urlPrefix"))
    return {
        "apiVersion": f"kubescheduler.config.k8s.io/{scheduler_api_version(minor)}",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"kubeconfig": kubeconfig},
        "extenders": [dict(e) for e in extenders],
    }

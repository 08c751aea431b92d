"""What a Cluster object asks of the controller, written as annotations on it (TKEStack's Cluster type
has no field for them, and annotations survive its aggregated API unchanged):

    tke-catalog.io/prune: "false"                   keep releases of apps removed from the list (default: uninstall them)
    tke-catalog.io/allow-critical-removal: "true"   let an edit uninstall a critical app (the CNI, DNS)
    tke-catalog.io/deletion-policy: orphan          on deletion leave the apps installed (default: uninstall)
    tke-catalog.io/target: management               install into the management cluster itself
    tke-catalog.io/insecure-skip-tls-verify: "true" accept a ClusterCredential without a CA

A value we do not understand is a finding (and the Cluster is not reconciled), never a silent default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.core.findings import Finding, Severity

__all__ = ["ANNOTATIONS", "ClusterPolicy", "FINALIZER", "policy_of"]

PREFIX = "tke-catalog.io/"
FINALIZER = "tke-catalog.io/apps"
ANNOTATIONS = {
    "prune": ("true", "false"),
    "allow-critical-removal": ("true", "false"),
    "deletion-policy": ("uninstall", "orphan"),
    "target": ("business", "management"),
    "insecure-skip-tls-verify": ("true", "false"),
}


@dataclass(frozen=True)
class ClusterPolicy:
    """The controller's choices for one Cluster."""

    prune: bool = True
    allow_critical_removal: bool = False
    uninstall_on_delete: bool = True
    management: bool = False
    insecure_credential: bool = False


def policy_of(obj: Mapping[str, Any], where: str) -> tuple[ClusterPolicy, list[Finding]]:
    """The policy the object's annotations state, and a finding for each value we cannot read."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    chosen: dict[str, str] = {}
    findings: list[Finding] = []
    for key, allowed in ANNOTATIONS.items():
        value = annotations.get(PREFIX + key)
        if value is None:
            chosen[key] = allowed[0] if key not in ("allow-critical-removal", "insecure-skip-tls-verify") else "false"
            continue
        text = str(value).strip().lower()
        if text not in allowed:
            findings.append(Finding(Severity.ERROR,
                                    f"annotation {PREFIX}{key}: {value!r} is not one of {', '.join(allowed)}",
                                    file=where, path=f"$.metadata.annotations['{PREFIX}{key}']",
                                    hint=f"set it to {' or '.join(repr(a) for a in allowed)}, or remove it",
                                    rule="controller-policy"))
            text = allowed[0]
        chosen[key] = text
    return ClusterPolicy(prune=chosen["prune"] == "true",
                         allow_critical_removal=chosen["allow-critical-removal"] == "true",
                         uninstall_on_delete=chosen["deletion-policy"] == "uninstall",
                         management=chosen["target"] == "management",
                         insecure_credential=chosen["insecure-skip-tls-verify"] == "true"), findings

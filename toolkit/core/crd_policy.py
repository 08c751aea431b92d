"""What apply does with a chart's CustomResourceDefinitions (its `crds/` folder). Pure.

helm creates `crds/` on a release's first install and never touches them again: a chart upgrade (or a
day-2 move to another line of an app) that changes a CRD would leave the old one in the cluster. So a
chart states its policy in Chart.yaml, with Flux's names for the same choice:

    annotations:
      tke-catalog.io/crd-policy: CreateReplace   # or Create, or Skip

- `CreateReplace`: before every install and upgrade, create the chart's CRDs that are missing and
  replace those that differ from the chart's (a digest annotation says which copy is in the cluster).
  A replacement that would drop a version the cluster still stores objects in, or change the scope,
  is refused: it would strand those objects.
- `Create`: create missing CRDs, never change existing ones.
- `Skip`: leave it to helm (its own behaviour; also what a chart without the annotation gets).
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.core.yamldoc import parse_yaml_all, to_plain
from toolkit.errors import InputError

__all__ = ["CRD_DIGEST_ANNOTATION", "CRD_POLICY_ANNOTATION", "WAIT_FOR_CRDS_ANNOTATION", "CrdPolicy", "CrdStep",
           "chart_crds", "crd_established", "crd_policy", "crd_step", "crds_to_wait_for", "with_digest"]

CRD_POLICY_ANNOTATION = "tke-catalog.io/crd-policy"
CRD_DIGEST_ANNOTATION = "tke-catalog.io/crd-digest"
WAIT_FOR_CRDS_ANNOTATION = "tke-catalog.io/wait-for-crds"
"""Chart.yaml: CRDs (comma-separated names) something else registers at run time (an operator at its
first start) that the chart's objects need; apply waits until they are established."""


def crds_to_wait_for(metadata: Mapping[str, Any]) -> list[str]:
    """The CRD names the chart's `tke-catalog.io/wait-for-crds` annotation lists."""
    annotations = metadata.get("annotations")
    value = annotations.get(WAIT_FOR_CRDS_ANNOTATION) if isinstance(annotations, Mapping) else None
    return [name.strip() for name in str(value or "").split(",") if name.strip()]


def crd_established(crd: Mapping[str, Any] | None) -> bool:
    """True when the CRD exists and the API server serves it (condition Established)."""
    conditions = ((crd or {}).get("status") or {}).get("conditions") or ()
    return any(isinstance(c, Mapping) and c.get("type") == "Established" and c.get("status") == "True"
               for c in conditions)


class CrdPolicy(enum.Enum):
    """How apply treats a chart's CRDs."""

    CREATE_REPLACE = "CreateReplace"
    CREATE = "Create"
    SKIP = "Skip"


def crd_policy(metadata: Mapping[str, Any], source: str) -> CrdPolicy | None:
    """The chart's stated policy, or None when Chart.yaml states none."""
    annotations = metadata.get("annotations")
    value = annotations.get(CRD_POLICY_ANNOTATION) if isinstance(annotations, Mapping) else None
    if value is None:
        return None
    try:
        return CrdPolicy(str(value))
    except ValueError:
        raise InputError(f"{source}: {CRD_POLICY_ANNOTATION} is {value!r}",
                         hint="use CreateReplace, Create or Skip") from None


def chart_crds(files: Mapping[str, bytes], source: str) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions in the chart's `crds/` folder, in file order."""
    found: list[dict[str, Any]] = []
    for name in sorted(files):
        if not name.startswith("crds/") or not name.endswith((".yaml", ".yml", ".json")):
            continue
        for document in parse_yaml_all(files[name].decode("utf-8"), f"{source}/{name}"):
            plain = to_plain(document)
            if isinstance(plain, dict) and plain.get("kind") == "CustomResourceDefinition":
                found.append(plain)
    return found


def _digest(crd: Mapping[str, Any]) -> str:
    body = {"spec": crd.get("spec"), "labels": (crd.get("metadata") or {}).get("labels")}
    return "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def with_digest(crd: Mapping[str, Any]) -> dict[str, Any]:
    """The chart's CRD with the digest annotation that marks it as this copy."""
    metadata = dict(crd.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), CRD_DIGEST_ANNOTATION: _digest(crd)}
    return {**crd, "metadata": metadata}


@dataclass(frozen=True)
class CrdStep:
    """One CRD: `create`, `replace`, `keep` or `refuse`, and why."""

    name: str
    action: str
    reason: str = ""


def crd_step(wanted: Mapping[str, Any], live: Mapping[str, Any] | None, policy: CrdPolicy) -> CrdStep:
    """What to do with one of the chart's CRDs given the cluster's copy (None: not there)."""
    name = str((wanted.get("metadata") or {}).get("name", ""))
    if policy is CrdPolicy.SKIP:
        return CrdStep(name, "keep", "the chart's crd-policy is Skip (helm's own behaviour)")
    if live is None:
        return CrdStep(name, "create", "not in the cluster")
    if policy is CrdPolicy.CREATE:
        return CrdStep(name, "keep", "exists; the chart's crd-policy is Create")
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    if annotations.get(CRD_DIGEST_ANNOTATION) == _digest(wanted):
        return CrdStep(name, "keep", "the cluster has the chart's copy")
    spec, live_spec = wanted.get("spec") or {}, live.get("spec") or {}
    if spec.get("scope") and live_spec.get("scope") and spec["scope"] != live_spec["scope"]:
        return CrdStep(name, "refuse", f"it would change the scope from {live_spec['scope']} to {spec['scope']}, "
                                       "which Kubernetes does not allow")
    versions = {str(v.get("name")) for v in spec.get("versions") or () if isinstance(v, Mapping)}
    stored = [str(v) for v in (live.get("status") or {}).get("storedVersions") or ()]
    dropped = [v for v in stored if v not in versions]
    if dropped:
        return CrdStep(name, "refuse", f"the new definition drops {', '.join(dropped)}, which the cluster still "
                                       "stores objects in")
    return CrdStep(name, "replace", "the chart's definition changed")

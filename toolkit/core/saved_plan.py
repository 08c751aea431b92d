"""Saved plans (`plan --out PLAN.json`): the plan with values redacted, plus what `apply PLAN.json`
checks before acting: the Cluster file's digest, the installed state's fingerprint and each release's
values digest. Pure functions over data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from toolkit.core.model import InstalledState, ReleasePlan
from toolkit.core.plan_render import plan_as_dict
from toolkit.errors import InputError

__all__ = ["check_saved_plan", "saved_plan_document", "state_fingerprint", "values_digest"]


def values_digest(values: Mapping[str, Any]) -> str:
    """A digest of values in canonical JSON (what saved plans record instead of secrets)."""
    return "sha256:" + hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def state_fingerprint(state: InstalledState) -> str:
    """A digest of the installed state a plan was made against (changes mean: plan again)."""
    rows = sorted((r.namespace, r.name, r.chart, r.version, r.digest, r.status, values_digest(r.values))
                  for r in state.releases)
    owned = sorted(state.inventory or ())
    return "sha256:" + hashlib.sha256(json.dumps([rows, owned]).encode()).hexdigest()


def saved_plan_document(plan: ReleasePlan, *, state: InstalledState | None, cluster_file: Path,
                        cluster_text: str) -> dict[str, Any]:
    """The JSON written by `plan --out`: the plan (values redacted), plus what `apply PLAN.json` checks:
    the Cluster file and its digest, the installed state's fingerprint, each release's values digest."""
    document = plan_as_dict(plan, include_values=True)
    document["source"] = {"clusterFile": str(cluster_file),
                          "clusterDigest": "sha256:" + hashlib.sha256(cluster_text.encode()).hexdigest(),
                          "stateFingerprint": state_fingerprint(state) if state is not None else None}
    by_name = {r.name: r for r in plan.releases}
    for entry in document["releases"]:
        entry["valuesDigest"] = values_digest(by_name[entry["name"]].values)
    return document


def check_saved_plan(document: Mapping[str, Any], plan: ReleasePlan, state: InstalledState,
                     cluster_text: str) -> None:
    """Refuse a saved plan when the Cluster file, the installed state or the resolved releases differ."""
    source = document.get("source") or {}
    hint = "run `tke-catalog plan --out PLAN.json` again and review the new plan"
    if source.get("clusterDigest") != "sha256:" + hashlib.sha256(cluster_text.encode()).hexdigest():
        raise InputError(f"the Cluster file {source.get('clusterFile')} changed since the plan was made", hint=hint)
    if source.get("stateFingerprint") not in (None, state_fingerprint(state)):
        raise InputError("the cluster changed since the plan was made (releases installed, upgraded or removed)",
                         hint=hint)
    want = sorted((r["name"], r["action"], r["version"], r["digest"], r["valuesDigest"])
                  for r in document.get("releases", []))
    have = sorted((r.name, r.action.value, r.version, r.digest, values_digest(r.values)) for r in plan.releases)
    if want != have:
        raise InputError("the saved plan no longer matches what the Cluster resolves to", hint=hint)

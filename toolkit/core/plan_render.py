"""The plan's rendered forms, pure: its JSON document and the human table (secrets always redacted)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from toolkit.core.catalog import TIERS
from toolkit.core.findings import Finding
from toolkit.core.model import Action, ReleasePlan
from toolkit.core.values import redact

__all__ = ["plan_as_dict", "render_diff", "render_table"]


def plan_as_dict(plan: ReleasePlan, *, include_values: bool = False,
                 findings: Sequence[Finding] | None = None) -> dict[str, Any]:
    """The JSON form of the plan; values, when included, are redacted. `findings` (default: the plan's
    own) are every note met on the way, so that the document is the whole answer."""
    releases = []
    for r in plan.releases:
        entry: dict[str, Any] = {
            "name": r.name,
            "namespace": r.namespace,
            "chart": r.chart,
            "version": r.version,
            "digest": r.digest,
            "action": r.action.value,
            "wave": r.wave,
            "tier": TIERS[r.tier] if 0 <= r.tier < len(TIERS) else r.tier,
            "dependsOn": list(r.depends_on),
            "reason": r.reason,
            "changedValues": list(r.changed_values),
            "valueChanges": [{"path": path, "old": old, "new": new} for path, old, new in r.value_changes],
            "critical": r.critical,
        }
        if r.chosen_because:
            entry["chosenBecause"] = r.chosen_because
        if r.derived:
            entry["derivedFromCluster"] = [d.as_dict() for d in r.derived]
        if r.operator_step and r.action in (Action.INSTALL, Action.UPGRADE):
            entry["operatorStep"] = r.operator_step
        if r.adopts:
            entry["adopts"] = list(r.adopts)
        if r.previous_version is not None and r.action is not Action.INSTALL:
            entry["previousVersion"] = r.previous_version
        if r.drift:
            entry["changedOutsideTkeCatalog"] = list(r.drift)
        if r.foreign:
            entry["installedBy"] = r.foreign
            entry["takeOver"] = r.take_over
        if include_values:
            entry["values"] = redact(r.values)
        releases.append(entry)
    counts = {a.value: sum(1 for r in plan.releases if r.action is a) for a in Action}
    return {"cluster": plan.cluster, "summary": counts, "releases": releases,
            "defaultedByTKEStack": [d.as_dict() for d in plan.defaulted],
            "findings": [f.as_dict() for f in (plan.findings if findings is None else findings)]}


_SYMBOL = {Action.INSTALL: "+", Action.UPGRADE: "~", Action.UNINSTALL: "-", Action.NOOP: "=", Action.CONFLICT: "!"}


def render_table(plan: ReleasePlan) -> str:
    """A human table: one line per release, grouped by wave, with reasons and changed value paths."""
    rows = [("", "WAVE", "RELEASE", "NAMESPACE", "CHART", "VERSION", "ACTION", "DEPENDS ON")]
    for r in plan.releases:
        version = r.version
        if r.action is Action.UPGRADE and r.previous_version and r.previous_version != r.version:
            version = f"{r.previous_version} → {r.version}"
        rows.append((_SYMBOL[r.action], str(r.wave), r.name + (" (critical)" if r.critical else ""), r.namespace,
                     r.chart, version, r.action.value, ", ".join(r.depends_on) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [f"Plan for cluster {plan.cluster}:", ""]
    if plan.defaulted:
        shown = ", ".join(f"{'.'.join(map(str, d.path))}={d.value}" for d in plan.defaulted)
        lines[1:1] = [f"Defaulted by TKEStack's rules: {shown}"]
        lines.append("")
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            continue
        r = plan.releases[n - 1]
        if r.action in (Action.UPGRADE, Action.UNINSTALL, Action.CONFLICT):
            lines.append(f"      reason: {r.reason}")
        elif r.action is Action.INSTALL and r.chosen_because:
            lines.append(f"      chart: {r.chosen_because}")
        if r.adopts:
            lines.append(f"      adopts: {', '.join(r.adopts)} (helm takes ownership; you consented)")
        if r.action in (Action.INSTALL, Action.UPGRADE):
            for d in r.derived:
                lines.append(f"      derived: {'.'.join(d.path)}={json.dumps(d.value)}: {d.source}")
            if r.operator_step:
                lines.append(f"      operator: {r.operator_step}")
        if r.action is Action.CONFLICT:
            lines.append(f"      left untouched: pass --take-over {r.name} (or set takeOver: true on the app) to "
                         "take it over")
        changes = r.value_changes or tuple((path, None, None) for path in r.changed_values)
        for path, old, new in changes[:20]:
            lines.append(f"      ~ {path}" + (f": {_short_value(old)} → {_short_value(new)}" if r.value_changes else ""))
        if len(changes) > 20:
            lines.append(f"      ... and {len(changes) - 20} more")
    counts = {a: sum(1 for r in plan.releases if r.action is a) for a in Action}
    lines.append("")
    conflicts = f", {counts[Action.CONFLICT]} in conflict (not ours)" if counts[Action.CONFLICT] else ""
    lines.append(f"{counts[Action.INSTALL]} to install, {counts[Action.UPGRADE]} to upgrade, "
                 f"{counts[Action.UNINSTALL]} to uninstall, {counts[Action.NOOP]} unchanged{conflicts}.")
    if counts[Action.UNINSTALL]:
        lines.append("Uninstalls happen only with `apply --prune`; without it those releases are kept.")
    return "\n".join(lines)


def _short_value(value: Any) -> str:
    """A value for one table line: JSON, cut at 60 characters; (absent) for a missing side."""
    import json

    if value is None:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def render_diff(plan: ReleasePlan, manifest_diffs: Mapping[str, str] | None = None) -> str:
    """What an apply would change, release by release: the action and why, every value path old → new
    (secrets redacted), and the manifest diff when given; unchanged releases are left out."""
    lines = []
    for r in plan.releases:
        if r.action is Action.NOOP:
            continue
        key = f"{r.namespace}/{r.name}"
        lines.append(f"{_SYMBOL[r.action]} {key}: {r.action.value} ({r.reason})")
        if r.action is Action.UNINSTALL:
            lines.append("    (only with `apply --prune`)")
        for path, old, new in r.value_changes:
            lines.append(f"    ~ {path}: {_short_value(old)} → {_short_value(new)}")
        if manifest_diffs and key in manifest_diffs:
            lines += ["    " + line for line in manifest_diffs[key].splitlines()]
    return "\n".join(lines) if lines else f"No changes: the cluster matches Cluster {plan.cluster}."

"""The day-2 diff: each wanted release against what is installed (install, upgrade with reasons and
changed value paths, no-op), and the uninstalls of owned releases no longer wanted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.core.catalog import Catalog, CatalogApp
from toolkit.core.cluster import Cluster
from toolkit.core.findings import Finding
from toolkit.core.graph import levels
from toolkit.core.model import (
    HEALTHY_STATUSES,
    Action,
    InstalledRelease,
    InstalledState,
    PlannedRelease,
)
from toolkit.core.values import changed_leaves, merge_values
from toolkit.core.wanted import WantedApp

__all__ = ["planned_release", "planned_removals"]


def _source(item: WantedApp) -> str:
    """Where apply finds the chart: the catalog line's folder that was chosen, or the repository."""
    assert item.info is not None
    if item.ref.path is not None and not item.ref.repo_url and item.info.path in (item.ref.path, *item.ref.lines):
        return item.info.path
    return item.ref.describe()


def planned_release(item: WantedApp, wave: int, wanted: Mapping[str, WantedApp], state: InstalledState | None,
                    take_over: frozenset[str] = frozenset(), tier: int = 0) -> PlannedRelease:
    """The plan line of one wanted release against what is installed: install, upgrade (with every
    reason, the value changes and the drift made outside tke-catalog), no-op, or a conflict with a
    same-name release we do not own (unless the user consented to take it over)."""
    assert item.info is not None and item.merged is not None
    values = item.merged.values
    installed = _find_installed(state, item.namespace, item.release)
    action, reason = Action.INSTALL, "not installed"
    changes: list[tuple[str, Any, Any]] = []
    drift: list[str] = []
    foreign = ""
    consent = item.release in take_over or item.key in take_over or bool(item.spec and item.spec.take_over)
    previous_version = previous_digest = None
    adopts: tuple[str, ...] = ()
    if installed is not None:
        previous_version, previous_digest = installed.version, installed.digest
        owned = state is None or state.owned(installed)
        # a release someone else installed holds only their own values: compare with what it runs
        current = installed.values if owned or not installed.live else merge_values(item.info.default_values,
                                                                                    installed.values)
        changes = changed_leaves(current, values)
        reasons = []
        if installed.chart != item.info.name:
            reasons.append(f"chart {installed.chart} → {item.info.name}")
        if installed.version != item.info.version:
            reasons.append(f"chart version {installed.version} → {item.info.version}"
                           + (f" ({item.choice})" if item.choice else ""))
        elif installed.digest and installed.digest != item.info.digest:
            reasons.append(f"chart content changed ({_short(installed.digest)} → {_short(item.info.digest)})")
        if owned:
            drift = _drift(installed)
        if drift:
            reasons.append("changed outside tke-catalog: " + "; ".join(drift))
        if changes:
            reasons.append(f"{len(changes)} value(s) changed")
        if installed.status.lower() not in HEALTHY_STATUSES:
            reasons.append(f"release status is {installed.status}")
        if not owned:
            foreign = installed.installed_by or "a tool other than tke-catalog (no ownership mark)"
            reasons.append(f"taking over a release tke-catalog did not install ({foreign})" if consent else
                           f"a release of this name exists that tke-catalog did not install ({foreign})")
        action = Action.UPGRADE if reasons else Action.NOOP
        if not owned and not consent:
            action = Action.CONFLICT
        reason = "; ".join(reasons) if reasons else "up to date"
    else:
        reason = "new release" if state is not None else "not installed"
        existing = tuple(state.unowned.get(f"{item.namespace}/{item.release}", ())) if state is not None else ()
        if existing:
            shown = ", ".join(existing[:8]) + (f" and {len(existing) - 8} more" if len(existing) > 8 else "")
            foreign = f"objects exist that this release does not own: {shown}"
            if consent:
                reason = f"new release, adopting objects it does not own: {shown}"
                adopts = existing
            else:
                action, reason = Action.CONFLICT, foreign
    return PlannedRelease(
        name=item.release, namespace=item.namespace, chart=item.info.name, version=item.info.version,
        digest=item.info.digest, action=action, wave=wave, tier=tier,
        depends_on=tuple(sorted(wanted[d].release for d in item.deps)), reason=reason,
        changed_values=tuple(path for path, _, _ in changes), values=values, app=item.key,
        critical=bool(item.catalog and item.catalog.critical), source=_source(item),
        previous_version=previous_version, previous_digest=previous_digest, provenance=item.merged.provenance,
        value_changes=tuple(changes), drift=tuple(drift), foreign=foreign, take_over=consent and bool(foreign),
        chosen_because=item.choice, derived=item.derived, adopts=adopts, min_kernel=item.info.min_kernel,
        operator_step=item.info.operator_step,
    )


def _drift(installed: InstalledRelease) -> list[str]:
    """What changed on the cluster since tke-catalog last applied this release."""
    out = []
    if installed.recorded_revision and installed.revision and installed.revision != installed.recorded_revision:
        out.append(f"revision {installed.recorded_revision} → {installed.revision}"
                   + (f" ({installed.installed_by})" if installed.installed_by else ""))
    if installed.live and installed.recorded_values is not None and dict(installed.recorded_values) != dict(
            installed.values):
        paths = [p for p, _, _ in changed_leaves(installed.recorded_values, installed.values)]
        out.append(f"values {', '.join(paths[:5])}{' ...' if len(paths) > 5 else ''} changed by hand")
    if installed.missing_objects:
        shown = ", ".join(installed.missing_objects[:5])
        out.append(f"{len(installed.missing_objects)} object(s) deleted: {shown}")
    return out


def _short(digest: str) -> str:
    return digest.split(":")[-1][:12]


def _find_installed(state: InstalledState | None, namespace: str, name: str) -> InstalledRelease | None:
    if state is None:
        return None
    return next((r for r in state.releases if r.name == name and r.namespace == namespace), None)


def planned_removals(catalog: Catalog, wanted: Mapping[str, WantedApp], state: InstalledState | None,
                     allow_critical_removal: bool, cluster: Cluster, findings: list[Finding]) -> list[PlannedRelease]:
    if state is None:
        return []
    keep = {(w.namespace, w.release) for w in wanted.values()}
    gone = [r for r in state.releases if (r.namespace, r.name) not in keep and state.owned(r)]
    apps: dict[str, CatalogApp | None] = {}
    for r in gone:
        apps[r.name] = catalog.get(r.chart) or next((a for a in catalog.apps if a.release == r.name), None)
    for r in gone:
        app = apps[r.name]
        if app is not None and app.critical and not allow_critical_removal:
            findings.append(cluster.finding(
                f"the plan would uninstall critical release `{r.name}` ({app.category}: {app.name}) from namespace "
                f"`{r.namespace}`", ["spec"], rule="critical-removal",
                hint="this removes a component the cluster cannot work without; if that is really intended, "
                     "pass --allow-critical-removal"))
    # reverse dependency order: a release goes after everything that depends on it
    names = {r.name for r in gone}
    deps: dict[str, list[str]] = {r.name: [] for r in gone}
    for r in gone:
        app = apps[r.name]
        for dep in app.depends_on if app else ():
            dep_app = catalog.get(dep)
            target = dep_app.release if dep_app else dep
            if target in names:
                deps[target].append(r.name)  # `target` is removed after `r`
    depth = levels(deps)
    needs = {r.name: sorted(target for target, after in deps.items() if r.name in after) for r in gone}

    out = []
    for r in gone:
        app = apps[r.name]
        out.append(PlannedRelease(
            name=r.name, namespace=r.namespace, chart=r.chart, version=r.version, digest=r.digest,
            action=Action.UNINSTALL, wave=depth[r.name], reason="no longer wanted by the Cluster",
            depends_on=tuple(needs[r.name]),  # its dependencies: removed after it (apply reverses the order)
            changed_values=(), values=r.values, app=app.name if app else r.chart,
            critical=bool(app and app.critical), source="", previous_version=r.version, previous_digest=r.digest,
        ))
    return out

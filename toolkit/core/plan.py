"""Resolve a Cluster's app list into a release plan: what to install, upgrade, uninstall, in which waves.

Pure. Inputs are data (the parsed Cluster, the Catalog, a `ChartSource`, the installed state); the
output is a `ReleasePlan`, or `PlanRejected` carrying every error finding at once. The steps live in
their own modules: `cluster_checks`, `wanted`, `chart_choice`, `release_values`, `waves`, `diff`.

Ordering: releases form a graph from the catalog's `dependsOn` and the apps' own `dependsOn`; catalog
tiers (node configuration, network, cluster services, addons) put the node configuration and the CNI
first. A release's wave is its longest-path level, never earlier than every release of a lower tier.
Uninstalls run after the installs and upgrades, dependents before their dependencies.
"""

from __future__ import annotations

from dataclasses import replace

from toolkit.core.catalog import Catalog
from toolkit.core.chart_choice import load_chart, supported_version_findings
from toolkit.core.cluster import Cluster
from toolkit.core.cluster_checks import (
    cidr_findings,
    defaulting_findings,
    network_findings,
    runtime_findings,
)
from toolkit.core.diff import planned_release, planned_removals
from toolkit.core.findings import Finding, has_errors, plan_rejected
from toolkit.core.graph import find_cycle
from toolkit.core.model import (
    Action,
    ChartSource,
    InstalledState,
    PlannedRelease,
    ReleasePlan,
)
from toolkit.core.release_values import merge_and_validate
from toolkit.core.wanted import conflict_findings, resolve_dependencies, wanted_apps
from toolkit.core.waves import effective_tiers, plan_waves

__all__ = ["check_plan", "replace_wave", "resolve_plan"]


def check_plan(
    cluster: Cluster,
    catalog: Catalog,
    charts: ChartSource,
    *,
    state: InstalledState | None = None,
    allow_critical_removal: bool = False,
    image_registry: str | None = None,
    helm_major: int = 3,
    take_over: frozenset[str] = frozenset(),
) -> tuple[ReleasePlan | None, list[Finding]]:
    """Resolve the plan and return it with every finding; the plan is None when there are errors."""
    findings: list[Finding] = []
    findings += defaulting_findings(cluster)
    findings += supported_version_findings(cluster)
    findings += runtime_findings(cluster)
    findings += cidr_findings(cluster)
    findings += network_findings(cluster)
    wanted = wanted_apps(cluster, catalog, findings)
    conflict_findings(cluster, wanted, findings)
    resolve_dependencies(cluster, catalog, wanted, findings)
    if not has_errors(findings):
        cycle = find_cycle({k: w.deps for k, w in wanted.items()})
        if cycle:
            first = wanted[cycle[0]]
            path = first.spec.path("spec", "dependsOn") if first.spec and first.spec.depends_on else ["spec"]
            findings.append(cluster.finding(f"dependency cycle: {' -> '.join(cycle)}", path, rule="plan-cycle",
                                            hint="remove one of these dependsOn entries"))
    if not any(f.rule == "kube-version" for f in findings):
        for item in wanted.values():
            load_chart(cluster, charts, item, findings)
    for item in wanted.values():
        if item.info is not None:
            merge_and_validate(cluster, item, findings, image_registry, helm_major)
    if has_errors(findings):
        return None, findings
    deps = {k: w.deps for k, w in wanted.items()}
    tiers = effective_tiers(deps, {k: w.tier for k, w in wanted.items()})
    waves = plan_waves(deps, tiers)
    releases = [planned_release(item, waves[k], wanted, state, take_over, tiers[k]) for k, item in wanted.items()]
    removals = planned_removals(catalog, wanted, state, allow_critical_removal, cluster, findings)
    if has_errors(findings):
        return None, findings
    last = max((r.wave for r in releases), default=-1)
    releases += [replace_wave(r, last + 1 + r.wave) for r in removals]
    releases.sort(key=lambda r: (r.wave, r.action is Action.UNINSTALL, r.namespace, r.name))
    return ReleasePlan(cluster.name, tuple(releases), tuple(findings), cluster.defaulted), findings


def resolve_plan(
    cluster: Cluster,
    catalog: Catalog,
    charts: ChartSource,
    *,
    state: InstalledState | None = None,
    allow_critical_removal: bool = False,
    image_registry: str | None = None,
    helm_major: int = 3,
    take_over: frozenset[str] = frozenset(),
) -> ReleasePlan:
    """The release plan for `cluster`; raises PlanRejected with every error finding."""
    plan, findings = check_plan(cluster, catalog, charts, state=state, allow_critical_removal=allow_critical_removal,
                                image_registry=image_registry, helm_major=helm_major, take_over=take_over)
    if plan is None:
        raise plan_rejected(findings, cluster.source)
    return plan


def replace_wave(release: PlannedRelease, wave: int) -> PlannedRelease:
    """A copy of `release` in another wave."""
    return replace(release, wave=wave)

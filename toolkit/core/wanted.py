"""Which apps a Cluster wants: catalog defaults for its features, minus `disabledApps`, plus bootstrap
apps (catalog overrides and custom charts); their conflicts and resolved dependencies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.catalog import TIERS, Catalog, CatalogApp
from toolkit.core.cluster import AppSpec, Cluster
from toolkit.core.findings import Finding, Severity
from toolkit.core.model import ChartInfo, ChartRef
from toolkit.core.schema import did_you_mean
from toolkit.core.values import MergedValues

__all__ = ["WantedApp", "conflict_findings", "resolve_dependencies", "wanted_apps"]


@dataclass
class WantedApp:
    key: str  # catalog name, or release name for custom apps
    release: str
    namespace: str
    catalog: CatalogApp | None
    spec: AppSpec | None
    ref: ChartRef
    depends_on: tuple[str, ...] = ()
    deps: list[str] = field(default_factory=list)  # resolved keys
    info: ChartInfo | None = None
    merged: MergedValues | None = None
    choice: str = ""  # why this chart version (set by chart_choice)
    derived: tuple[Any, ...] = ()  # the values TKEStack computes from the Cluster (`features.Derived`)

    @property
    def tier(self) -> int:
        return self.catalog.tier_index if self.catalog is not None else len(TIERS) - 1


def wanted_apps(cluster: Cluster, catalog: Catalog, findings: list[Finding]) -> dict[str, WantedApp]:
    conditions = cluster.features.as_conditions()
    disabled = set(cluster.features.disabled_apps)
    for i, name in enumerate(cluster.features.disabled_apps):
        app = catalog.get(name)
        path: list[str | int] = ["spec", "features", "disabledApps", i]
        if app is None:
            guess = catalog.suggest(name)
            findings.append(cluster.finding(f"disabledApps names unknown app `{name}`", path, rule="unknown-app",
                                            hint=f"did you mean `{guess}`?" if guess else "name a catalog app"))
        elif not (app.default and app.matches(conditions)):
            findings.append(cluster.finding(f"disabledApps: `{name}` is not a default of this Cluster, nothing to trim",
                                            path, severity=Severity.WARNING, rule="disabled-app",
                                            hint="remove it from disabledApps"))
    wanted: dict[str, WantedApp] = {}
    skips = cluster.features.skip_conditions
    skipped: list[CatalogApp] = []
    for app in catalog.apps:
        if app.default and app.matches(conditions) and app.name not in disabled:
            if app.skip_condition is not None and app.skip_condition in skips:
                skipped.append(app)
                continue
            wanted[app.name] = WantedApp(app.name, app.release, app.namespace, app, None,
                                       app.chart_ref, app.depends_on)
    for app in skipped:
        index = skips.index(app.skip_condition or "")
        findings.append(cluster.finding(
            f"`{app.name}` is skipped by skipConditions ({app.skip_condition}), as TKEStack skips its create step",
            ["spec", "features", "skipConditions", index], severity=Severity.INFO, rule="skip-condition",
            hint=f"remove {app.skip_condition} from skipConditions to install it, or list `{app.name}` in "
                 "bootstrapApps"))
    listed = [catalog.get(s.chart_name) for s in cluster.apps]
    cni_planned = any(w.catalog is not None and w.catalog.tier == "network" for w in wanted.values()) or any(
        a is not None and a.tier == "network" for a in listed)
    if any(a.tier == "network" for a in skipped) and not cni_planned:
        findings.append(cluster.finding(
            "no CNI is planned: skipConditions skip "
            + ", ".join(f"`{a.name}`" for a in skipped if a.tier == "network")
            + "; pods stay without a network until you install one (as TKEStack's Cilium guide does by hand)",
            ["spec", "features", "skipConditions"], severity=Severity.WARNING, rule="no-cni",
            hint="install your own CNI, or drop EnsureGalaxy from skipConditions / set enableCilium: true"))
    seen_bootstrap: dict[str, int] = {}
    for spec in cluster.apps:
        app = catalog.get(spec.chart_name)
        if app is not None:
            if app.name in seen_bootstrap:
                findings.append(cluster.finding(
                    f"bootstrap app `{app.name}` is listed twice (also at bootstrapApps[{seen_bootstrap[app.name]}])",
                    spec.path("spec", "chart", "chartName"), rule="duplicate-app", hint="merge the two entries"))
                continue
            seen_bootstrap[app.name] = spec.index
            if app.name in disabled:
                findings.append(cluster.finding(
                    f"`{app.name}` is both in disabledApps and in bootstrapApps", spec.path("spec", "chart", "chartName"),
                    rule="disabled-app", hint=f"remove `{app.name}` from one of the two lists"))
                continue
            ref = ChartRef(app.name, app.name, None, spec.repo_url) if spec.repo_url else app.chart_ref
            wanted[app.name] = WantedApp(app.name, spec.release or app.release, spec.namespace or app.namespace, app,
                                       spec, ref, tuple(dict.fromkeys(app.depends_on + spec.depends_on)))
        elif spec.repo_url:
            key = spec.release
            if key in wanted:
                findings.append(cluster.finding(f"release `{key}` is defined twice", spec.path("spec", "name"),
                                                rule="duplicate-app", hint="give the custom app another spec.name"))
                continue
            wanted[key] = WantedApp(key, spec.release, spec.namespace or "default", None, spec,
                                  ChartRef(key, spec.chart_name, None, spec.repo_url), spec.depends_on)
        else:
            guess = catalog.suggest(spec.chart_name)
            hint = f"did you mean `{guess}`?" if guess else "name a catalog app"
            findings.append(cluster.finding(
                f"unknown app `{spec.chart_name}`: it is not in the catalog and has no repoURL",
                spec.path("spec", "chart", "chartName"), rule="unknown-app",
                hint=hint + " (or set chart.repoURL to install a custom chart, e.g. oci://registry/charts)"))
    seen: dict[str, tuple[str, str]] = {}
    for key, item in wanted.items():
        other = seen.get(item.release)
        if other is not None:
            path = item.spec.path("spec", "name") if item.spec else ["spec", "bootstrapApps"]
            where = (f"in namespace `{item.namespace}`" if other[1] == item.namespace else
                     f"(in namespaces `{other[1]}` and `{item.namespace}`: a Cluster's release names must be unique, "
                     "since dependencies, the inventory and apply's report name releases by name)")
            findings.append(cluster.finding(
                f"apps `{other[0]}` and `{key}` would both be release `{item.release}` {where}",
                path, rule="duplicate-app", hint="give one of them another spec.name"))
        seen[item.release] = (key, item.namespace)
    return wanted


def conflict_findings(cluster: Cluster, wanted: Mapping[str, WantedApp], findings: list[Finding]) -> None:
    reported: set[frozenset[str]] = set()
    for key, item in wanted.items():
        if item.catalog is None:
            continue
        for other in item.catalog.conflicts_with:
            pair = frozenset({key, other})
            if other not in wanted or pair in reported:
                continue
            reported.add(pair)
            culprit = item if item.spec is not None else wanted[other]
            path = culprit.spec.path("spec", "chart", "chartName") if culprit.spec else ["spec", "features"]
            if {key, other} == {"cilium", "galaxy"}:
                hint = ("a cluster runs one CNI: spec.features.enableCilium chooses it (true = cilium, false = "
                        "galaxy); remove the other from bootstrapApps")
            else:
                hint = f"keep one: remove `{culprit.key}` from bootstrapApps or add the other to disabledApps"
            findings.append(cluster.finding(f"`{key}` and `{other}` conflict and cannot both be installed", path,
                                            rule="conflict", hint=hint))


def resolve_dependencies(cluster: Cluster, catalog: Catalog, wanted: dict[str, WantedApp],
                          findings: list[Finding]) -> None:
    by_release = {w.release: k for k, w in wanted.items()}
    disabled = set(cluster.features.disabled_apps)
    for key, item in wanted.items():
        for dep in item.depends_on:
            target = dep if dep in wanted else by_release.get(dep)
            own = item.spec is not None and dep in item.spec.depends_on
            path = (item.spec.path("spec", "dependsOn", item.spec.depends_on.index(dep)) if own and item.spec
                    else (item.spec.path("spec", "chart", "chartName") if item.spec else ["spec", "features"]))
            origin = "" if own else " (a catalog dependency)"
            if target == key:
                findings.append(cluster.finding(f"app `{key}` depends on itself", path, rule="plan-cycle",
                                                hint="remove it from dependsOn"))
            elif target is not None:
                item.deps.append(target)
            elif dep in disabled:
                findings.append(cluster.finding(
                    f"app `{key}` depends on `{dep}`{origin}, which spec.features.disabledApps removes", path,
                    rule="missing-dependency", hint=f"remove `{dep}` from disabledApps, or drop `{key}`"))
            elif catalog.get(dep) is not None:
                needed = catalog.get(dep)
                assert needed is not None
                why = (f"its condition {needed.describe_when()} does not hold" if needed.default
                       else "it is not a default")
                hint = f"add `{dep}` as a bootstrap app" if not needed.when or not needed.default else (
                    f"change the Cluster so that {needed.describe_when()}, or drop `{key}`")
                skip = needed.skip_condition
                if skip is not None and skip in cluster.features.skip_conditions and needed.default and \
                        needed.matches(cluster.features.as_conditions()):
                    why = f"skipConditions skip it ({skip})"
                    hint = f"remove {skip} from skipConditions, list `{dep}` in bootstrapApps, or drop `{key}`"
                findings.append(cluster.finding(
                    f"app `{key}` depends on `{dep}`{origin}, which is not in the plan ({why})", path,
                    rule="missing-dependency", hint=hint))
            else:
                guess = did_you_mean(dep, [*wanted, *by_release])
                findings.append(cluster.finding(
                    f"app `{key}` depends on unknown app `{dep}`", path, rule="missing-dependency",
                    hint=f"did you mean `{guess}`?" if guess else "name a catalog app or a release of this Cluster"))

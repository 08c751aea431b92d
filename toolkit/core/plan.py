"""Resolve a Cluster's app list into a release plan: what to install, upgrade, uninstall, in which waves.

Pure. Inputs are data (the parsed Cluster, the Catalog, a `ChartSource`, the installed state); the
output is a `ReleasePlan`, or `PlanRejected` carrying every error finding at once.

Ordering: releases form a graph from the catalog's `dependsOn` and the apps' own `dependsOn`; catalog
tiers (node configuration, network, cluster services, addons) put the node configuration and the CNI
first. A release's wave is its longest-path level, never earlier than every release of a lower tier.
Uninstalls run after the installs and upgrades, dependents before their dependencies.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from toolkit.core.catalog import TIERS, Catalog, CatalogApp, find_cycle
from toolkit.core.cluster import DOCKERSHIM_REMOVED, AppSpec, Cluster
from toolkit.errors import ClusterSpecError, InputError
from toolkit.core.features import derive_values
from toolkit.core.findings import Finding, Severity, format_findings, has_errors
from toolkit.core.schema import did_you_mean, validate_instance
from toolkit.core.values import (
    LAYER_CATALOG,
    LAYER_CHART,
    LAYER_FEATURES,
    LAYER_RAW,
    LAYER_SET,
    MergedValues,
    changed_paths,
    merge_layers,
    redact,
)

__all__ = [
    "Action",
    "ChartInfo",
    "ChartRef",
    "ChartSource",
    "InstalledRelease",
    "InstalledState",
    "PlanRejected",
    "PlannedRelease",
    "ReleasePlan",
    "check_plan",
    "plan_as_dict",
    "render_table",
    "resolve_plan",
]

_HEALTHY = frozenset({"deployed", "succeeded"})


class Action(enum.Enum):
    """What apply will do with a release."""

    INSTALL = "install"
    UPGRADE = "upgrade"
    UNINSTALL = "uninstall"
    NOOP = "noop"


@dataclass(frozen=True)
class ChartRef:
    """Where a release's chart comes from: a catalog folder (`path`) or a repository (`repo_url`)."""

    app: str
    chart_name: str
    path: str | None = None
    repo_url: str | None = None

    def describe(self) -> str:
        """`charts/platform/cilium` or `oci://reg/charts/foo`."""
        if self.repo_url:
            return f"{self.repo_url.rstrip('/')}/{self.chart_name}"
        return self.path or self.chart_name


@dataclass(frozen=True)
class ChartInfo:
    """One version of a chart: its content digest, default values, schema and Kubernetes constraint."""

    name: str
    version: str
    digest: str
    default_values: Mapping[str, Any] = field(default_factory=dict)
    schema: Mapping[str, Any] | None = None
    path: str = ""
    kube_version: str | None = None


class ChartSource(Protocol):
    """Lists and loads chart versions (the catalog's folders, a directory of charts, an OCI registry)."""

    def versions(self, app: ChartRef) -> list[str]:
        """Every available version of the chart; empty when this source does not know it."""

    def load(self, app: ChartRef, version: str) -> ChartInfo:
        """One version of the chart; raises InputError or OperationalError when it cannot."""


@dataclass(frozen=True)
class InstalledRelease:
    """A release as it is on the cluster (or as the inventory recorded it)."""

    name: str
    namespace: str
    chart: str
    version: str
    digest: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    status: str = "deployed"


@dataclass(frozen=True)
class InstalledState:
    """The installed releases and the names of those this toolkit installed for this Cluster.

    `inventory` holds `namespace/name` keys; None means every listed release is ours.
    """

    cluster: str = ""
    releases: tuple[InstalledRelease, ...] = ()
    inventory: frozenset[str] | None = None

    def owned(self, release: InstalledRelease) -> bool:
        """True when tke-catalog installed this release for this Cluster."""
        return self.inventory is None or f"{release.namespace}/{release.name}" in self.inventory


@dataclass(frozen=True)
class PlannedRelease:
    """One line of the plan. `values` are the real merged values (render them with `redact`)."""

    name: str
    namespace: str
    chart: str
    version: str
    digest: str
    action: Action
    wave: int
    depends_on: tuple[str, ...] = ()
    reason: str = ""
    changed_values: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    app: str = ""
    critical: bool = False
    source: str = ""
    previous_version: str | None = None
    previous_digest: str | None = None
    provenance: Mapping[tuple[str | int, ...], str] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ReleasePlan:
    """Every release in wave order, and the non-error findings (warnings, notes) met on the way."""

    cluster: str
    releases: tuple[PlannedRelease, ...]
    findings: tuple[Finding, ...] = ()

    @property
    def has_changes(self) -> bool:
        """True when applying the plan would change anything."""
        return any(r.action is not Action.NOOP for r in self.releases)

    def get(self, name: str) -> PlannedRelease | None:
        """The planned release called `name`."""
        return next((r for r in self.releases if r.name == name), None)


class PlanRejected(ClusterSpecError):
    """The Cluster cannot be planned; `findings` holds every error (and warning) found."""

    def __init__(self, findings: Sequence[Finding], source: str) -> None:
        errors = [f for f in findings if f.severity is Severity.ERROR]
        super().__init__(f"{source}: {len(errors)} error(s); nothing was planned\n{format_findings(findings)}",
                         hint="fix the errors above and plan again")
        self.findings = list(findings)


# ---------------------------------------------------------------------------------------------------
# Resolution


@dataclass
class _Wanted:
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

    @property
    def tier(self) -> int:
        return self.catalog.tier_index if self.catalog is not None else len(TIERS) - 1


def check_plan(
    cluster: Cluster,
    catalog: Catalog,
    charts: ChartSource,
    *,
    state: InstalledState | None = None,
    allow_critical_removal: bool = False,
    image_registry: str | None = None,
) -> tuple[ReleasePlan | None, list[Finding]]:
    """Resolve the plan and return it with every finding; the plan is None when there are errors."""
    findings: list[Finding] = []
    findings += _check_runtime(cluster)
    findings += _check_network(cluster)
    wanted = _wanted_apps(cluster, catalog, findings)
    _check_conflicts(cluster, wanted, findings)
    _resolve_dependencies(cluster, catalog, wanted, findings)
    if not has_errors(findings):
        cycle = find_cycle({k: w.deps for k, w in wanted.items()})
        if cycle:
            first = wanted[cycle[0]]
            path = first.spec.path("spec", "dependsOn") if first.spec and first.spec.depends_on else ["spec"]
            findings.append(cluster.finding(f"dependency cycle: {' -> '.join(cycle)}", path, rule="plan-cycle",
                                            hint="remove one of these dependsOn entries"))
    for item in wanted.values():
        _load_chart(cluster, charts, item, findings)
    for item in wanted.values():
        if item.info is not None:
            _merge_and_validate(cluster, item, findings, image_registry)
    if has_errors(findings):
        return None, findings
    waves = _waves(wanted)
    releases = [_planned(item, waves[k], wanted, state) for k, item in wanted.items()]
    removals = _removals(catalog, wanted, state, allow_critical_removal, cluster, findings)
    if has_errors(findings):
        return None, findings
    last = max((r.wave for r in releases), default=-1)
    releases += [replace_wave(r, last + 1 + r.wave) for r in removals]
    releases.sort(key=lambda r: (r.wave, r.action is Action.UNINSTALL, r.namespace, r.name))
    return ReleasePlan(cluster.name, tuple(releases), tuple(findings)), findings


def resolve_plan(
    cluster: Cluster,
    catalog: Catalog,
    charts: ChartSource,
    *,
    state: InstalledState | None = None,
    allow_critical_removal: bool = False,
    image_registry: str | None = None,
) -> ReleasePlan:
    """The release plan for `cluster`; raises PlanRejected with every error finding."""
    plan, findings = check_plan(cluster, catalog, charts, state=state, allow_critical_removal=allow_critical_removal,
                                image_registry=image_registry)
    if plan is None:
        raise PlanRejected(findings, cluster.source)
    return plan


def replace_wave(release: PlannedRelease, wave: int) -> PlannedRelease:
    """A copy of `release` in another wave."""
    from dataclasses import replace

    return replace(release, wave=wave)


def _check_runtime(cluster: Cluster) -> list[Finding]:
    feats = cluster.features
    version = cluster.kube_version
    shown = cluster.version
    path = ["spec", "features", "containerRuntime"]
    if feats.container_runtime == "docker" and version[:2] >= DOCKERSHIM_REMOVED:
        return [cluster.finding(
            f"containerRuntime `docker` cannot run Kubernetes {shown}: the kubelet's dockershim, which talked to "
            "docker, was removed in Kubernetes 1.24",
            path, rule="runtime-docker",
            hint="set spec.features.containerRuntime: containerd (the containerd-config app configures the nodes); "
                 "or keep docker with cri-dockerd installed on every node, outside this catalog")]
    if feats.container_runtime == "docker":
        note = "" if feats.container_runtime_explicit else " (containerRuntime is unset: TKEStack's API default is docker)"
        return [cluster.finding(
            f"containerRuntime `docker` works on Kubernetes {shown} but not from 1.24 on, where dockershim is gone{note}",
            path if feats.container_runtime_explicit else ["spec", "version"], severity=Severity.WARNING,
            rule="runtime-docker",
            hint="migrate to containerd (drain each node, install containerd, set containerRuntime: containerd) "
                 "before upgrading Kubernetes to 1.24")]
    if not feats.container_runtime_explicit:
        return [cluster.finding(
            f"containerRuntime is unset; assuming containerd (Kubernetes {shown} has no dockershim)",
            ["spec", "features"], severity=Severity.INFO, rule="runtime-default",
            hint="write spec.features.containerRuntime: containerd to make it explicit")]
    return []


def _check_network(cluster: Cluster) -> list[Finding]:
    args = cluster.network_args
    out = []
    if cluster.features.network_mode == "overlay":
        for key in ("asn", "switch-ip"):
            if key in args:
                out.append(cluster.finding(f"networkArgs.{key} is only used in underlay mode; it is ignored here",
                                           ["spec", "networkArgs", key], severity=Severity.WARNING, rule="network-args",
                                           hint="set networkArgs.networkMode: underlay, or remove it"))
    elif cluster.features.enable_cilium and bool(args.get("asn")) != bool(args.get("switch-ip")):
        missing = "switch-ip" if args.get("asn") else "asn"
        out.append(cluster.finding(f"underlay BGP needs both networkArgs.asn and networkArgs.switch-ip; `{missing}` is "
                                   "missing, so BGP stays off", ["spec", "networkArgs"], severity=Severity.WARNING,
                                   rule="network-args", hint=f"add networkArgs.{missing}"))
    return out


def _wanted_apps(cluster: Cluster, catalog: Catalog, findings: list[Finding]) -> dict[str, _Wanted]:
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
    wanted: dict[str, _Wanted] = {}
    for app in catalog.apps:
        if app.default and app.matches(conditions) and app.name not in disabled:
            wanted[app.name] = _Wanted(app.name, app.release, app.namespace, app, None,
                                       ChartRef(app.name, app.name, app.chart), app.depends_on)
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
            ref = ChartRef(app.name, app.name, None if spec.repo_url else app.chart, spec.repo_url)
            wanted[app.name] = _Wanted(app.name, spec.release or app.release, spec.namespace or app.namespace, app,
                                       spec, ref, tuple(dict.fromkeys(app.depends_on + spec.depends_on)))
        elif spec.repo_url:
            key = spec.release
            if key in wanted:
                findings.append(cluster.finding(f"release `{key}` is defined twice", spec.path("spec", "name"),
                                                rule="duplicate-app", hint="give the custom app another spec.name"))
                continue
            wanted[key] = _Wanted(key, spec.release, spec.namespace or "default", None, spec,
                                  ChartRef(key, spec.chart_name, None, spec.repo_url), spec.depends_on)
        else:
            guess = catalog.suggest(spec.chart_name)
            hint = f"did you mean `{guess}`?" if guess else "name a catalog app"
            findings.append(cluster.finding(
                f"unknown app `{spec.chart_name}`: it is not in the catalog and has no repoURL",
                spec.path("spec", "chart", "chartName"), rule="unknown-app",
                hint=hint + " (or set chart.repoURL to install a custom chart, e.g. oci://registry/charts)"))
    seen: dict[tuple[str, str], str] = {}
    for key, item in wanted.items():
        other = seen.get((item.namespace, item.release))
        if other is not None:
            path = item.spec.path("spec", "name") if item.spec else ["spec", "bootstrapApps"]
            findings.append(cluster.finding(
                f"apps `{other}` and `{key}` would both be release `{item.release}` in namespace `{item.namespace}`",
                path, rule="duplicate-app", hint="give one of them another spec.name or targetNamespace"))
        seen[(item.namespace, item.release)] = key
    return wanted


def _check_conflicts(cluster: Cluster, wanted: Mapping[str, _Wanted], findings: list[Finding]) -> None:
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


def _resolve_dependencies(cluster: Cluster, catalog: Catalog, wanted: dict[str, _Wanted],
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
                findings.append(cluster.finding(
                    f"app `{key}` depends on `{dep}`{origin}, which is not in the plan ({why})", path,
                    rule="missing-dependency", hint=hint))
            else:
                guess = did_you_mean(dep, [*wanted, *by_release])
                findings.append(cluster.finding(
                    f"app `{key}` depends on unknown app `{dep}`", path, rule="missing-dependency",
                    hint=f"did you mean `{guess}`?" if guess else "name a catalog app or a release of this Cluster"))


def _load_chart(cluster: Cluster, charts: ChartSource, item: _Wanted, findings: list[Finding]) -> None:
    spec = item.spec
    version_path = spec.path("spec", "chart", "chartVersion") if spec else ["spec"]
    where = spec.path("spec", "chart") if spec else ["spec"]
    try:
        versions = charts.versions(item.ref)
    except InputError as exc:
        findings.append(cluster.finding(f"release `{item.release}`: {exc.message}", where, rule="chart",
                                        hint=exc.hint))
        return
    if not versions:
        hint = ("check chartName and repoURL; the chart source in use must reach that repository"
                if item.ref.repo_url else "check the app's `chart:` path in the catalog")
        findings.append(cluster.finding(f"release `{item.release}`: no chart found at {item.ref.describe()}", where,
                                        rule="chart", hint=hint))
        return
    wanted_version = spec.chart_version if spec else None
    chosen = _choose_version(wanted_version, versions)
    if isinstance(chosen, Finding):
        findings.append(cluster.finding(f"release `{item.release}`: {chosen.message}", version_path,
                                        rule="chart-version", hint=chosen.hint))
        return
    try:
        item.info = charts.load(item.ref, chosen)
    except InputError as exc:
        findings.append(cluster.finding(f"release `{item.release}`: {exc.message}", where, rule="chart", hint=exc.hint))
        return
    kube = item.info.kube_version
    if kube:
        from toolkit.core.semver_range import best_match

        plain = ".".join(map(str, cluster.kube_version))
        try:
            fits = best_match(kube, [plain]) is not None
        except InputError:
            fits = True  # a malformed kubeVersion is lint's business
        if not fits:
            findings.append(cluster.finding(
                f"release `{item.release}`: chart {item.info.name} {item.info.version} needs Kubernetes {kube}, "
                f"the Cluster runs {cluster.version}", ["spec", "version"], rule="kube-version",
                hint=f"upgrade the Cluster's Kubernetes or pick a chart version that supports {plain}"))


def _choose_version(wanted: str | None, versions: Sequence[str]) -> str | Finding:
    from toolkit.core.semver_range import best_match

    available = ", ".join(versions[-8:])
    if not wanted:
        best = best_match("*", versions)
        return best if best is not None else versions[-1]
    if wanted in versions:
        return wanted
    try:
        best = best_match(wanted, versions)
    except InputError as exc:
        return Finding(Severity.ERROR, f"chartVersion `{wanted}` is not a version or range: {exc.message}",
                       hint=exc.hint or "write a version like 1.2.3 or a range like ~1.2")
    if best is None:
        return Finding(Severity.ERROR, f"no available version satisfies chartVersion `{wanted}` (available: {available})",
                       hint="widen the range or publish a matching chart version")
    return best


def _merge_and_validate(cluster: Cluster, item: _Wanted, findings: list[Finding], image_registry: str | None) -> None:
    assert item.info is not None
    spec = item.spec
    set_layer: dict[str, Any] = {}
    if spec is not None and spec.set_values:
        from toolkit.core.setvalues import parse_set

        try:
            set_layer = parse_set(list(spec.set_values))
        except InputError as exc:
            findings.append(cluster.finding(f"release `{item.release}`: {exc.message}", spec.path("spec", "values",
                                            "values"), rule="set-values", hint=exc.hint))
            return
    app_name = item.catalog.name if item.catalog is not None else ""
    merged = merge_layers([
        (LAYER_FEATURES, derive_values(app_name, cluster, image_registry=image_registry)),
        (LAYER_RAW, spec.raw_values if spec is not None else None),
        (LAYER_SET, set_layer),
    ], base=_chart_and_catalog_values(item.info, item.catalog))
    item.merged = merged
    if item.info.schema is None:
        return
    errors = validate_instance(merged.values, item.info.schema, file=cluster.source, layer_of=merged.layer_of,
                               subject=f"release `{item.release}` ({item.info.name} {item.info.version})",
                               rule="values-schema")
    for finding in sorted(errors, key=lambda f: f.path):
        layer = merged.layer_of(_parts(finding.path)) or ""
        if spec is not None and LAYER_SET in layer:
            line = cluster.line(spec.path("spec", "values", "values"))
        elif spec is not None and LAYER_RAW in layer:
            line = cluster.line(spec.path("spec", "values", "rawValues"))
        elif spec is not None:
            line = cluster.line(spec.path())
        elif LAYER_FEATURES in layer:
            line = cluster.line(["spec"])
        else:
            line = None
        hint = finding.hint or ""
        if LAYER_CHART in layer or LAYER_CATALOG in layer:
            hint = (hint + "; " if hint else "") + f"the value comes from the {layer}: fix the chart or catalog"
        findings.append(Finding(finding.severity, finding.message, file=cluster.source, path=finding.path, line=line,
                                hint=hint or None, rule=finding.rule))


_BASES: dict[tuple[int, int], tuple[Mapping[str, Any], Mapping[str, Any] | None, MergedValues]] = {}


def _chart_and_catalog_values(info: ChartInfo, app: CatalogApp | None) -> MergedValues:
    """The chart defaults merged with the catalog defaults, once per (chart version, catalog app): a fleet
    merges the same two layers for every Cluster. Charts and catalogs are immutable once loaded."""
    defaults = info.default_values
    catalog_values = app.values if app is not None else None
    key = (id(defaults), id(catalog_values))
    hit = _BASES.get(key)
    if hit is not None and hit[0] is defaults and hit[1] is catalog_values:
        return hit[2]
    merged = merge_layers([(LAYER_CHART, defaults), (LAYER_CATALOG, catalog_values)])
    if len(_BASES) >= 512:
        _BASES.clear()
    _BASES[key] = (defaults, catalog_values, merged)
    return merged


def _parts(path: str) -> tuple[str | int, ...]:
    """`$.a.b[0]["c.d"]` → ("a", "b", 0, "c.d")."""
    import re

    parts: list[str | int] = []
    for m in re.finditer(r'\.([^.\[]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]', path[1:]):
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            parts.append(int(m.group(2)))
        else:
            parts.append(m.group(3))
    return tuple(parts)


def _waves(wanted: Mapping[str, _Wanted]) -> dict[str, int]:
    """Longest-path levels over the dependency graph, with each tier starting after the lower ones."""
    effective: dict[str, int] = {}

    def tier(key: str, trail: frozenset[str] = frozenset()) -> int:
        if key not in effective:
            item = wanted[key]
            effective[key] = max([item.tier, *(tier(d, trail | {key}) for d in item.deps if d not in trail)])
        return effective[key]

    for key in wanted:
        tier(key)
    waves: dict[str, int] = {}

    def level(key: str, floor: int) -> int:
        if key not in waves:
            deps = [level(d, floor) + 1 for d in wanted[key].deps]
            waves[key] = max([floor, *deps])
        return waves[key]

    floor = 0
    for t in sorted(set(effective.values())):
        for key in sorted(k for k, v in effective.items() if v == t):
            level(key, floor)
        floor = max(waves.values(), default=-1) + 1
    return waves


def _planned(item: _Wanted, wave: int, wanted: Mapping[str, _Wanted], state: InstalledState | None) -> PlannedRelease:
    assert item.info is not None and item.merged is not None
    values = item.merged.values
    installed = _find_installed(state, item.namespace, item.release)
    action, reason = Action.INSTALL, "not installed"
    changed: tuple[str, ...] = ()
    previous_version = previous_digest = None
    if installed is not None:
        previous_version, previous_digest = installed.version, installed.digest
        changed = tuple(changed_paths(installed.values, values))
        reasons = []
        if installed.chart != item.info.name:
            reasons.append(f"chart {installed.chart} → {item.info.name}")
        if installed.version != item.info.version:
            reasons.append(f"chart version {installed.version} → {item.info.version}")
        elif installed.digest and installed.digest != item.info.digest:
            reasons.append(f"chart content changed ({_short(installed.digest)} → {_short(item.info.digest)})")
        if changed:
            reasons.append(f"{len(changed)} value(s) changed")
        if installed.status.lower() not in _HEALTHY:
            reasons.append(f"release status is {installed.status}")
        if state is not None and not state.owned(installed):
            reasons.append("adopting a release tke-catalog did not install")
        action = Action.UPGRADE if reasons else Action.NOOP
        reason = "; ".join(reasons) if reasons else "up to date"
    else:
        reason = "new release" if state is not None else "not installed"
    return PlannedRelease(
        name=item.release, namespace=item.namespace, chart=item.info.name, version=item.info.version,
        digest=item.info.digest, action=action, wave=wave,
        depends_on=tuple(sorted(wanted[d].release for d in item.deps)), reason=reason, changed_values=changed,
        values=values, app=item.key, critical=bool(item.catalog and item.catalog.critical),
        source=item.ref.describe(), previous_version=previous_version, previous_digest=previous_digest,
        provenance=item.merged.provenance,
    )


def _short(digest: str) -> str:
    return digest.split(":")[-1][:12]


def _find_installed(state: InstalledState | None, namespace: str, name: str) -> InstalledRelease | None:
    if state is None:
        return None
    return next((r for r in state.releases if r.name == name and r.namespace == namespace), None)


def _removals(catalog: Catalog, wanted: Mapping[str, _Wanted], state: InstalledState | None,
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
    level: dict[str, int] = {}

    def depth(name: str, trail: frozenset[str] = frozenset()) -> int:
        if name not in level:
            level[name] = max([0, *(depth(d, trail | {name}) + 1 for d in deps[name] if d not in trail)])
        return level[name]

    out = []
    for r in gone:
        app = apps[r.name]
        out.append(PlannedRelease(
            name=r.name, namespace=r.namespace, chart=r.chart, version=r.version, digest=r.digest,
            action=Action.UNINSTALL, wave=depth(r.name), reason="no longer wanted by the Cluster",
            changed_values=(), values=r.values, app=app.name if app else r.chart,
            critical=bool(app and app.critical), source="", previous_version=r.version, previous_digest=r.digest,
        ))
    return out


# ---------------------------------------------------------------------------------------------------
# Rendering (pure; secrets are always redacted)


def plan_as_dict(plan: ReleasePlan, *, include_values: bool = False) -> dict[str, Any]:
    """The JSON form of the plan; values, when included, are redacted."""
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
            "dependsOn": list(r.depends_on),
            "reason": r.reason,
            "changedValues": list(r.changed_values),
            "critical": r.critical,
        }
        if r.previous_version is not None and r.action is not Action.INSTALL:
            entry["previousVersion"] = r.previous_version
        if include_values:
            entry["values"] = redact(r.values)
        releases.append(entry)
    counts = {a.value: sum(1 for r in plan.releases if r.action is a) for a in Action}
    return {"cluster": plan.cluster, "summary": counts, "releases": releases,
            "findings": [f.as_dict() for f in plan.findings]}


_SYMBOL = {Action.INSTALL: "+", Action.UPGRADE: "~", Action.UNINSTALL: "-", Action.NOOP: "="}


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
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            continue
        r = plan.releases[n - 1]
        if r.action in (Action.UPGRADE, Action.UNINSTALL):
            lines.append(f"      reason: {r.reason}")
        for path in r.changed_values[:20]:
            lines.append(f"      ~ {path}")
        if len(r.changed_values) > 20:
            lines.append(f"      ... and {len(r.changed_values) - 20} more")
    counts = {a: sum(1 for r in plan.releases if r.action is a) for a in Action}
    lines.append("")
    lines.append(f"{counts[Action.INSTALL]} to install, {counts[Action.UPGRADE]} to upgrade, "
                 f"{counts[Action.UNINSTALL]} to uninstall, {counts[Action.NOOP]} unchanged.")
    return "\n".join(lines)



"""The application catalog: which apps exist, where their charts are, and when they are defaults.

Pure: `parse_catalog` turns parsed YAML (and the catalog schema) into a `Catalog`; `check_catalog`
reports catalog-level problems (unknown references, cycles, duplicates) as findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.findings import Finding, Severity, catalog_invalid, json_path
from toolkit.core.graph import find_cycle
from toolkit.core.helm_release import ReleaseObject
from toolkit.core.model import ChartRef
from toolkit.core.schema import did_you_mean, validate_instance
from toolkit.core.yamldoc import line_of, to_plain
from toolkit.errors import CatalogError

__all__ = [
    "FEATURES",
    "TIERS",
    "Catalog",
    "CatalogApp",
    "check_catalog",
    "parse_catalog",
]

TIERS: tuple[str, ...] = ("node", "network", "cluster", "addon")
"""Install bands, first to last: node configuration, the CNI, cluster services, addons."""

FEATURES: tuple[str, ...] = ("enableCilium", "networkMode", "containerRuntime", "enableMetricsServer", "gpuType")
"""The Cluster features a catalog app's `when` may test."""


@dataclass(frozen=True)
class CatalogApp:
    """One app of the catalog."""

    name: str
    chart: str
    category: str
    namespace: str
    release: str
    tier: str = "addon"
    default: bool = False
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    conflicts_with: tuple[str, ...] = ()
    critical: bool = False
    skip_condition: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    lines: tuple[str, ...] = ()
    """Older lines of the chart (folders), for the Kubernetes versions the current line does not admit."""
    replaces: tuple[ReleaseObject, ...] = ()
    """Objects others applied for the same component under other names (TKEStack's own manifests): found
    when planning against a cluster, they need the same consent as an adoption and are deleted after the
    release installed."""

    @property
    def chart_folders(self) -> tuple[str, ...]:
        """The current line's folder, then every older line's."""
        return (self.chart, *self.lines)

    @property
    def chart_ref(self) -> ChartRef:
        """Where the planner finds this app's charts (every line)."""
        return ChartRef(self.name, self.name, self.chart, lines=self.lines)

    @property
    def tier_index(self) -> int:
        """The position of this app's tier in `TIERS`."""
        return TIERS.index(self.tier)

    def matches(self, features: Mapping[str, Any]) -> bool:
        """True when every `when` condition holds for these Cluster features."""
        return all(features.get(key) in allowed for key, allowed in self.when.items())

    def describe_when(self) -> str:
        """The `when` conditions as text, e.g. `enableCilium=true`."""
        parts = []
        for key, allowed in self.when.items():
            shown = "|".join(str(v).lower() if isinstance(v, bool) else str(v) for v in allowed)
            parts.append(f"{key}={shown}")
        return ", ".join(parts) or "always"


@dataclass(frozen=True)
class Catalog:
    """Every app, in file order; `source` is the file it came from, `tree` its round-trip nodes."""

    apps: tuple[CatalogApp, ...]
    source: str = "catalog/catalog.yaml"
    tree: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {a.name: a for a in self.apps})

    def get(self, name: str) -> CatalogApp | None:
        """The app called `name`, or None."""
        found: CatalogApp | None = self.__dict__["_by_name"].get(name)
        return found

    def names(self) -> list[str]:
        """App names in file order."""
        return [a.name for a in self.apps]

    def suggest(self, name: str) -> str | None:
        """The catalog name closest to `name` (for did-you-mean hints)."""
        return did_you_mean(name, self.names())


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


def parse_catalog(data: Any, source: str, *, schema: Mapping[str, Any] | None = None, tree: Any = None) -> Catalog:
    """Build the Catalog from parsed YAML; schema violations raise CatalogInvalid with every finding."""
    plain = to_plain(data)
    if schema is not None:
        findings = validate_instance(plain, schema, file=source, source_root=tree if tree is not None else data,
                                     rule="catalog-schema")
        if findings:
            raise catalog_invalid(findings, source)
    if not isinstance(plain, dict) or not isinstance(plain.get("apps"), list):
        raise CatalogError(f"{source}: expected a mapping with an `apps` list", hint="see schemas/catalog.schema.json")
    apps = []
    for entry in plain["apps"]:
        when = {str(k): _as_tuple(v) for k, v in (entry.get("when") or {}).items()}
        if "enableCilium" in when or "enableMetricsServer" in when:
            when = {k: tuple(bool(x) for x in v) if k in ("enableCilium", "enableMetricsServer") else v
                    for k, v in when.items()}
        apps.append(CatalogApp(
            name=entry["name"],
            chart=entry["chart"],
            category=entry["category"],
            namespace=entry["namespace"],
            release=entry.get("release") or entry["name"],
            tier=entry.get("tier", "addon"),
            default=bool(entry.get("default", False)),
            when=when,
            depends_on=tuple(entry.get("dependsOn") or ()),
            conflicts_with=tuple(entry.get("conflictsWith") or ()),
            critical=bool(entry.get("critical", False)),
            skip_condition=entry.get("skipCondition"),
            values=entry.get("values") or {},
            description=entry.get("description", ""),
            lines=tuple(entry.get("lines") or ()),
            replaces=tuple(ReleaseObject(r["apiVersion"], r["kind"], r["name"], r.get("namespace"))
                           for r in entry.get("replaces") or ()),
        ))
    return Catalog(tuple(apps), source, tree if tree is not None else data)


def check_catalog(catalog: Catalog) -> list[Finding]:
    """Catalog-level errors: duplicate names or releases, unknown dependsOn/conflictsWith, cycles."""
    findings: list[Finding] = []
    tree = catalog.tree

    def add(message: str, path: Sequence[str | int], hint: str | None, rule: str) -> None:
        line = line_of(tree, list(path)) if tree is not None else None
        findings.append(Finding(Severity.ERROR, message, file=catalog.source, path=json_path(path), line=line,
                                hint=hint, rule=rule))

    seen_names: dict[str, int] = {}
    seen_releases: dict[tuple[str, str], str] = {}
    for i, app in enumerate(catalog.apps):
        if app.name in seen_names:
            add(f"app `{app.name}` is listed twice (also at apps[{seen_names[app.name]}])", ["apps", i, "name"],
                "rename or remove one of them", "catalog-duplicate")
        seen_names.setdefault(app.name, i)
        key = (app.namespace, app.release)
        if key in seen_releases and seen_releases[key] != app.name:
            add(f"release `{app.release}` in namespace `{app.namespace}` is used by both `{seen_releases[key]}` and "
                f"`{app.name}`", ["apps", i, "release"], "give one of them another `release:` name", "catalog-duplicate")
        seen_releases.setdefault(key, app.name)
        for field_name, refs in (("dependsOn", app.depends_on), ("conflictsWith", app.conflicts_with)):
            for j, ref in enumerate(refs):
                if ref == app.name:
                    add(f"app `{app.name}` lists itself in {field_name}", ["apps", i, field_name, j],
                        "remove it", "catalog-reference")
                elif catalog.get(ref) is None:
                    guess = catalog.suggest(ref)
                    add(f"app `{app.name}`: {field_name} names unknown app `{ref}`", ["apps", i, field_name, j],
                        f"did you mean `{guess}`?" if guess else "name an app of this catalog", "catalog-reference")
        clash = set(app.depends_on) & set(app.conflicts_with)
        for ref in sorted(clash):
            add(f"app `{app.name}` both depends on and conflicts with `{ref}`", ["apps", i, "conflictsWith"],
                "keep one of the two", "catalog-reference")
    graph: dict[str, tuple[str, ...]] = {}
    for app in catalog.apps:
        graph.setdefault(app.name, app.depends_on)
    cycle = find_cycle(graph)
    if cycle:
        index = catalog.names().index(cycle[0])
        add(f"dependency cycle: {' -> '.join(cycle)}", ["apps", index, "dependsOn"],
            "remove one of these dependsOn entries", "catalog-cycle")
    return findings

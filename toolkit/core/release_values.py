"""Each release's values: chart defaults, catalog defaults, Cluster features, rawValues and `--set`
values merged with provenance, then validated against the chart's schema with the layer named."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from toolkit.core.catalog import CatalogApp
from toolkit.core.cluster import Cluster
from toolkit.core.cluster_checks import cgroup_findings
from toolkit.core.features import derive_values, derived_from_cluster
from toolkit.core.findings import Finding, Severity, json_path
from toolkit.core.model import ChartInfo
from toolkit.core.schema import validate_instance
from toolkit.core.subcharts import enabled, import_into, subchart_values
from toolkit.core.values import (
    LAYER_CATALOG,
    LAYER_CHART,
    LAYER_FEATURES,
    LAYER_RAW,
    LAYER_SET,
    MergedValues,
    merge_layers,
)
from toolkit.core.wanted import WantedApp
from toolkit.errors import InputError

__all__ = ["merge_and_validate"]


def _value_at(values: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(values, dict):
            return None
        values = values.get(key)
    return values


def merge_and_validate(cluster: Cluster, item: WantedApp, findings: list[Finding], image_registry: str | None,
                       helm_major: int = 3) -> None:
    assert item.info is not None
    spec = item.spec
    set_layer: dict[str, Any] = {}
    if spec is not None and spec.set_values:
        from toolkit.core.setvalues import parse_set

        try:
            set_layer = parse_set(list(spec.set_values), helm_major=helm_major)
        except InputError as exc:
            findings.append(cluster.finding(f"release `{item.release}`: {exc.message}", spec.path("spec", "values",
                                            "values"), rule="set-values", hint=exc.hint))
            return
    app_name = item.catalog.name if item.catalog is not None else ""
    try:
        derived = derive_values(app_name, cluster, image_registry=image_registry)
        item.derived = tuple(derived_from_cluster(app_name, cluster))
        if app_name == "containerd-config":
            findings += cgroup_findings(cluster)
    except InputError as exc:
        findings.append(cluster.finding(f"release `{item.release}`: {exc.message}", ["spec", "clusterCIDR"],
                                        rule="cidr", hint=exc.hint))
        return
    raw = spec.raw_values if spec is not None else None
    key = _memo_key(item, derived, raw, set_layer)
    hit = _MERGED.get(key) if key is not None else None
    if hit is not None and hit[0] is item.info and hit[1] is item.catalog:
        merged, errors = hit[2], []
    else:
        merged = merge_layers([(LAYER_FEATURES, derived), (LAYER_RAW, raw), (LAYER_SET, set_layer)],
                              base=_chart_and_catalog_values(item.info, item.catalog))
        errors = _schema_errors(cluster, item, merged)
        if key is not None and not errors:
            if len(_MERGED) >= 4096:
                _MERGED.clear()
            _MERGED[key] = (item.info, item.catalog, merged)
    item.merged = merged
    item.derived = tuple(d for d in item.derived if _value_at(merged.values, d.path) == d.value)  # not overridden
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


_MERGED: dict[tuple[int, int, str], tuple[ChartInfo, CatalogApp | None, MergedValues]] = {}


def _memo_key(item: WantedApp, *layers: Any) -> tuple[int, int, str] | None:
    """What a release's merged values depend on beyond its chart and catalog app: a fleet gives the
    same app the same values on many Clusters, and those merge and validate once. Merged values are
    read, never changed, once made (the plan, diff and renderers copy what they alter)."""
    import json

    try:
        text = json.dumps(layers, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return (id(item.info), id(item.catalog), text)


def _under(merged: MergedValues, key: str) -> Callable[[tuple[str | int, ...]], str | None]:
    """`merged.layer_of` for paths relative to one subchart's key."""
    return lambda rel: merged.layer_of((key, *rel))


def _schema_errors(cluster: Cluster, item: WantedApp, merged: MergedValues) -> list[Finding]:
    """The chart's schema against the values (with what subcharts import), and each enabled subchart's
    schema against its values, as helm checks them at install."""
    assert item.info is not None
    info, errors = item.info, []
    subject = f"release `{item.release}` ({info.name} {info.version})"
    values = import_into(merged.values, info.default_values, info.subcharts) if info.subcharts else merged.values
    if info.schema is not None:
        errors += validate_instance(values, info.schema, file=cluster.source, layer_of=merged.layer_of,
                                    subject=subject, rule="values-schema")
    for sub in info.subcharts:
        if sub.schema is None or not enabled(sub, values):
            continue
        sub_values = subchart_values(sub, values)
        if sub_values is None:
            continue
        sub_subject = f"{subject}, subchart `{sub.key}` ({sub.name} {sub.version})"
        if not isinstance(sub_values, Mapping):
            errors.append(Finding(Severity.ERROR, f"{sub_subject}: values must be a mapping, not "
                                  f"{type(sub_values).__name__}", file=cluster.source, path=json_path((sub.key,)),
                                  rule="values-schema", hint="write `key: value` pairs under the subchart's key"))
            continue
        errors += validate_instance(sub_values, sub.schema, file=cluster.source, path_prefix=(sub.key,),
                                    layer_of=_under(merged, sub.key), subject=sub_subject, rule="values-schema")
    return errors


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

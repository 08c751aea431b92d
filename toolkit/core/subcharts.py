"""A chart's subcharts for values validation, with helm's rules (pure).

Helm validates a subchart's schema against the values under the subchart's key in the parent's values
(its `alias`, else its name), coalesced over the subchart's own defaults, with the parent's `global`;
only enabled subcharts count. A dependency starts enabled; its `tags` (looked up in the parent's
`tags:`) disable it when one is false and none true; its `condition` (comma-separated paths, the first
that holds a bool wins) overrides the tags. `import-values` copy a subchart's values into the parent's
(`exports.X` for a plain string, `child`/`parent` paths for a mapping), from the charts' defaults;
the parent's values win.
A subchart kept in `charts/` without a dependency entry is always enabled. One level deep.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.archive_reader import read_chart_archive
from toolkit.core.chart_loader import subchart_names
from toolkit.core.values import merge_values
from toolkit.core.yamldoc import fast_load_plain, parse_yaml, to_plain
from toolkit.errors import InputError

__all__ = ["SubchartInfo", "enabled", "import_into", "subchart_infos", "subchart_values"]


@dataclass(frozen=True)
class SubchartInfo:
    """One subchart as validation needs it."""

    key: str
    name: str
    version: str
    schema: Mapping[str, Any] | None = None
    default_values: Mapping[str, Any] = field(default_factory=dict)
    condition: str = ""
    tags: tuple[str, ...] = ()
    import_values: tuple[Any, ...] = ()


def _yaml(data: bytes | None, source: str) -> Any:
    if data is None:
        return {}
    text = data.decode("utf-8", "replace")
    loaded = fast_load_plain(text, version=(1, 1))
    if loaded is None and text.strip():
        loaded = to_plain(parse_yaml(text, source, version=(1, 1)))
    return loaded or {}


def _schema(data: bytes | None, source: str) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError as exc:
        raise InputError(f"{source}: invalid JSON ({exc})", hint="fix the subchart's schema (helm refuses it too)") from exc


def _files_of(files: Mapping[str, bytes], entry: str, source: str) -> dict[str, bytes]:
    if entry.endswith(".tgz"):
        return read_chart_archive(files[entry], f"{source}/{entry}")[1]
    return {path[len(entry):]: data for path, data in files.items() if path.startswith(entry)}


def subchart_infos(files: Mapping[str, bytes], metadata: Mapping[str, Any], source: str) -> tuple[SubchartInfo, ...]:
    """The chart's direct subcharts (from charts/), matched to Chart.yaml's dependency entries."""
    names, _ = subchart_names(files, source)
    declared = {str(d.get("name")): d for d in metadata.get("dependencies") or [] if isinstance(d, Mapping)}
    found: list[SubchartInfo] = []
    for name, entry in sorted(names.items()):
        sub = _files_of(files, entry, source)
        meta = _yaml(sub.get("Chart.yaml"), f"{source}/{entry}Chart.yaml")
        schema = _schema(sub.get("values.schema.json"), f"{source}/{entry}values.schema.json")
        dependency = declared.get(name, {})
        tags = dependency.get("tags") or ()
        found.append(SubchartInfo(
            key=str(dependency.get("alias") or name), name=name, version=str(meta.get("version", "")),
            schema=schema if isinstance(schema, dict) else None,
            default_values=_yaml(sub.get("values.yaml"), f"{source}/{entry}values.yaml"),
            condition=str(dependency.get("condition") or ""),
            tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
            import_values=tuple(dependency.get("import-values") or ())))
    return tuple(found)


def _path_value(values: Any, path: str) -> tuple[bool, Any]:
    for part in path.split("."):
        if not isinstance(values, Mapping) or part not in values:
            return False, None
        values = values[part]
    return True, values


def enabled(sub: SubchartInfo, values: Mapping[str, Any]) -> bool:
    """Whether helm installs the subchart with these (parent) values."""
    on = True
    tags = values.get("tags")
    if sub.tags and isinstance(tags, Mapping):
        states = [tags[t] for t in sub.tags if isinstance(tags.get(t), bool)]
        on = True in states or not states
    for path in sub.condition.strip().split(","):
        if path:
            found, value = _path_value(values, path)
            if found and isinstance(value, bool):
                return value
    return on


def subchart_values(sub: SubchartInfo, values: Mapping[str, Any]) -> Any:
    """The values helm validates the subchart's schema against: its defaults under the parent's, plus
    the parent's `global` (None when the parent sets nothing for it and it has no defaults)."""
    given = values.get(sub.key)
    if given is not None and not isinstance(given, Mapping):
        return given  # helm: "invalid type for values: expected object"
    merged = merge_values(sub.default_values, given or {})
    if isinstance(values.get("global"), Mapping):
        merged["global"] = merge_values(merged.get("global") or {}, values["global"])
    return merged or None


def import_into(values: Mapping[str, Any], defaults: Mapping[str, Any], subs: tuple[SubchartInfo, ...]) -> dict[str, Any]:
    """The parent's values with each enabled subchart's `import-values` added (the values win). As in
    helm, what is imported comes from the charts' defaults (`defaults`: the parent chart's values.yaml
    over the subchart's), not from values given at install."""
    imported: dict[str, Any] = {}
    for sub in subs:
        if not sub.import_values or not enabled(sub, values):
            continue
        child_values = subchart_values(sub, defaults) or {}
        for item in sub.import_values:
            if isinstance(item, str):
                child_path, parent_path = f"exports.{item}", ""
            elif isinstance(item, Mapping):
                child_path, parent_path = str(item.get("child", "")), str(item.get("parent", ""))
            else:
                continue
            found, value = _path_value(child_values, child_path)
            if not found:
                continue
            if parent_path and parent_path != ".":
                for part in reversed(parent_path.split(".")):
                    value = {part: value}
            if isinstance(value, Mapping):
                imported = merge_values(imported, value)
    return merge_values(imported, values)

"""Edit a Cluster file's app list in a ruamel.yaml round-trip tree, keeping everything else as written.

Pure: text in, tree edits, text out. `load_tree` reads a Cluster file; the verbs change its
`spec.bootstrapApps` and `spec.features.disabledApps`; `dump_tree` writes it back in the file's own
layout. The generic round-trip machinery (layout detection, comment-preserving list edits) is
`toolkit.core.yaml_edit`; its file-level functions are re-exported here for the load, edit, dump cycle.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from toolkit.core.setvalues import parse_set
from toolkit.core.yaml_edit import (
    Indentation,
    Layout,
    append_item,
    block_scalar,
    delete_item,
    detect_indentation,
    detect_layout,
    dump_tree,
    fingerprint,
    load_round_trip,
    new_list,
    quoted_like,
    reformatted_lines,
)
from toolkit.core.yamldoc import parse_yaml
from toolkit.errors import ClusterSpecError, InputError

__all__ = [
    "AppEntry",
    "add_app",
    "app_names",
    "disable_app",
    "enable_app",
    "load_tree",
    "remove_app",
    "set_app",
    "set_value_key",
    # the file-level round trip, from toolkit.core.yaml_edit
    "Indentation",
    "Layout",
    "detect_indentation",
    "detect_layout",
    "dump_tree",
    "reformatted_lines",
]


@dataclass(frozen=True, slots=True)
class AppEntry:
    """A bootstrap app to add: release `name`, chart (defaults to `name`), version or range, values."""

    name: str
    chart: str | None = None
    version: str | None = None
    repo: str | None = None
    namespace: str | None = None
    chart_group: str = "public"
    raw_values: str = ""
    set_values: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()


def load_tree(text: str, source: str = "<input>") -> tuple[CommentedMap, Layout]:
    """Parse a Cluster file into a round-trip tree (quotes kept) and the layout to dump it back with."""
    checked = parse_yaml(text, source)  # size, depth, duplicate keys, aliases: the shared rules
    if not isinstance(checked, CommentedMap) or checked.get("kind") != "Cluster":
        raise ClusterSpecError(f"{source}: not a Cluster object", hint="pass a file with `kind: Cluster`")
    layout = detect_layout(text)
    tree = load_round_trip(text, layout)
    assert isinstance(tree, CommentedMap)  # parse_yaml accepted the same text
    return tree, layout


# --- the app list ---------------------------------------------------------------------------------


def _spec(tree: CommentedMap) -> CommentedMap:
    spec = tree.get("spec")
    if not isinstance(spec, CommentedMap):
        raise ClusterSpecError("the Cluster has no `spec` mapping", hint="add `spec:` with the cluster's settings")
    return spec


def _app_list(tree: CommentedMap, *, create: bool = False) -> CommentedSeq:
    spec = _spec(tree)
    apps = spec.get("bootstrapApps")
    if apps is None and create:
        apps = spec["bootstrapApps"] = CommentedSeq()
    if apps is None:
        return CommentedSeq()
    if not isinstance(apps, CommentedSeq):
        raise ClusterSpecError("`spec.bootstrapApps` is not a list", hint="write it as a YAML list of `- app:` entries")
    return apps


def _release_name(item: Any) -> str | None:
    app = item.get("app") if isinstance(item, dict) else None
    if not isinstance(app, dict):
        return None
    spec, metadata = app.get("spec"), app.get("metadata")
    if isinstance(spec, dict) and isinstance(spec.get("name"), str):
        return str(spec["name"])
    if isinstance(metadata, dict) and isinstance(metadata.get("name"), str):
        return str(metadata["name"])
    return None


def app_names(tree: CommentedMap) -> list[str]:
    """The release names of the bootstrap apps, in file order."""
    return [name for name in map(_release_name, _app_list(tree)) if name is not None]


def _did_you_mean(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    return f"the file has: {', '.join(choices)}" if choices else "the file has no bootstrap apps"


def _find_app(tree: CommentedMap, name: str) -> tuple[int, CommentedMap]:
    for index, item in enumerate(_app_list(tree)):
        if _release_name(item) == name:
            return index, item["app"]
    raise InputError(f"no bootstrap app `{name}` in the Cluster", hint=_did_you_mean(name, app_names(tree)))


def add_app(tree: CommentedMap, entry: AppEntry) -> None:
    """Append a bootstrap app in TKEStack 1.8 shape; an app with the same release name is an error."""
    if entry.name in app_names(tree):
        raise InputError(f"the Cluster already has a bootstrap app `{entry.name}`",
                         hint=f"change it with `tke-catalog apps set ... {entry.name}`, or pick another name")
    parse_set(entry.set_values)  # helm's syntax errors now, not at install time
    apps = _app_list(tree, create=True)
    metadata = CommentedMap(name=entry.name)
    namespaces = [i["app"]["metadata"].get("namespace") for i in apps if _release_name(i) is not None
                  and isinstance(i["app"].get("metadata"), dict)]
    if namespaces and isinstance(namespaces[0], str):
        metadata["namespace"] = namespaces[0]  # TKEStack keeps a cluster's apps in one namespace
    chart = CommentedMap()
    if entry.repo is None:
        chart["chartGroupName"] = entry.chart_group
    chart["chartName"] = entry.chart or entry.name
    if entry.version is not None:
        chart["chartVersion"] = entry.version
    if entry.repo is not None:
        chart["repoURL"] = entry.repo
    values = CommentedMap(rawValuesType="yaml", rawValues=block_scalar(entry.raw_values))
    values["values"] = new_list(entry.set_values)
    spec = CommentedMap(type="HelmV3", name=entry.name, targetNamespace=entry.namespace or entry.name)
    spec["chart"] = chart
    spec["values"] = values
    if entry.depends_on:
        spec["dependsOn"] = new_list(entry.depends_on)
    append_item(apps, CommentedMap(app=CommentedMap(metadata=metadata, spec=spec)))


def remove_app(tree: CommentedMap, name: str) -> None:
    """Remove one bootstrap app; the comment lines around it stay."""
    index, _ = _find_app(tree, name)
    delete_item(_spec(tree), "bootstrapApps", index)


def set_value_key(item: str) -> str:
    """The key of a helm `--set` item `key=value` (an escaped `\\=` belongs to the key)."""
    match = re.match(r"^((?:[^=\\]|\\.)+)=", item)
    if match is None:
        raise InputError(f"`{item}` is not a `key=value` setting", hint="write it as `--set path.to.key=value`")
    return match.group(1)


def set_app(tree: CommentedMap, name: str, *, version: str | None = None, set_values: Sequence[str] = (),
            unset_keys: Sequence[str] = (), raw_values: str | None = None) -> bool:
    """Change one app's chart version, `values[]` settings or rawValues; True when anything changed.

    A `--set` for a key the app already sets replaces that entry in place instead of adding a second.
    """
    _, app = _find_app(tree, name)
    parse_set(set_values)
    spec = app.get("spec")
    if not isinstance(spec, CommentedMap):
        raise ClusterSpecError(f"bootstrap app `{name}` has no `app.spec` mapping", hint="add its AppSpec")
    before = fingerprint(spec)
    if version is not None:
        chart = spec.get("chart")
        if not isinstance(chart, CommentedMap):
            chart = spec["chart"] = CommentedMap(chartName=name)
        chart["chartVersion"] = version
    if set_values or unset_keys or raw_values is not None:
        values = spec.get("values")
        if not isinstance(values, CommentedMap):
            values = spec["values"] = CommentedMap(rawValuesType="yaml", rawValues="")
        if raw_values is not None and raw_values != values.get("rawValues"):
            values["rawValues"] = block_scalar(raw_values)
            values["rawValuesType"] = "yaml"
        _edit_settings(values, name, set_values, unset_keys)
    return fingerprint(spec) != before


def _edit_settings(values: CommentedMap, name: str, set_values: Sequence[str], unset_keys: Sequence[str]) -> None:
    settings = values.get("values")
    if settings is None:
        settings = values["values"] = CommentedSeq()
    if not isinstance(settings, CommentedSeq):
        raise ClusterSpecError(f"`values.values` of app `{name}` is not a list", hint="write it as a list of `key=value` strings")
    for key in unset_keys:
        keys = [set_value_key(str(s)) for s in settings]
        if key not in keys:
            hint = _did_you_mean(key, keys).replace("the file has", "the app sets") if keys else "the app has no `values[]` settings"
            raise InputError(f"app `{name}` does not set `{key}`", hint=hint)
        for index in reversed([i for i, k in enumerate(keys) if k == key]):
            delete_item(values, "values", index)
    for item in set_values:
        key = set_value_key(item)
        keys = [set_value_key(str(s)) for s in settings]
        if key in keys:
            at = keys.index(key)
            settings[at] = quoted_like(settings[at], item)
        else:
            append_item(settings, quoted_like(settings[-1], item) if settings else item)


# --- spec.features.disabledApps -------------------------------------------------------------------


def _disabled_list(tree: CommentedMap, *, create: bool) -> tuple[CommentedMap, CommentedSeq] | None:
    spec = _spec(tree)
    features = spec.get("features")
    if features is None:
        if not create:
            return None
        features = spec["features"] = CommentedMap()
    if not isinstance(features, CommentedMap):
        raise ClusterSpecError("`spec.features` is not a mapping", hint="write it as `features:` with keys below")
    disabled = features.get("disabledApps")
    if disabled is None:
        if not create:
            return None
        disabled = features["disabledApps"] = CommentedSeq()
    if not isinstance(disabled, CommentedSeq):
        raise ClusterSpecError("`spec.features.disabledApps` is not a list", hint="write it as a list of catalog app names")
    return features, disabled


def disable_app(tree: CommentedMap, name: str) -> bool:
    """Add `name` to `spec.features.disabledApps` (created when missing); False when it was already there."""
    found = _disabled_list(tree, create=True)
    assert found is not None
    disabled = found[1]
    if name in disabled:
        return False
    append_item(disabled, quoted_like(disabled[-1], name) if disabled else name)
    return True


def enable_app(tree: CommentedMap, name: str) -> bool:
    """Remove `name` from `spec.features.disabledApps`; False when it was not there."""
    found = _disabled_list(tree, create=False)
    if found is None or name not in found[1]:
        return False
    features, disabled = found
    for index in reversed([i for i, item in enumerate(disabled) if item == name]):
        delete_item(features, "disabledApps", index)
    return True

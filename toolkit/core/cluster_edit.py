"""Edit a Cluster file's app list in a ruamel.yaml round-trip tree, keeping everything else as written.

Pure: text in, tree edits, text out. Comments, key order, quoting, flow style, indentation, line
endings and the final newline survive, so a diff of an edit shows only the app that changed. ruamel
hangs the comment lines between two list items on the deepest last node of the first item; removing
an item therefore moves those lines to its neighbour first (see `_delete_item`).
"""

from __future__ import annotations

import difflib
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import LiteralScalarString
from ruamel.yaml.tokens import CommentToken

from toolkit.errors import ClusterSpecError, InputError
from toolkit.core.setvalues import parse_set
from toolkit.core.yamldoc import parse_yaml

__all__ = [
    "AppEntry",
    "Indentation",
    "Layout",
    "add_app",
    "app_names",
    "detect_indentation",
    "detect_layout",
    "disable_app",
    "dump_tree",
    "enable_app",
    "load_tree",
    "reformatted_lines",
    "remove_app",
    "set_app",
    "set_value_key",
]


@dataclass(frozen=True, slots=True)
class Indentation:
    """ruamel's three indentation numbers: `mapping`, `sequence` (item content) and `offset` (the dash)."""

    mapping: int = 2
    sequence: int = 2
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Layout:
    """How a file is written, beyond what the round-trip tree keeps by itself."""

    indentation: Indentation = Indentation()
    newline: str = "\n"
    final_newline: bool = True
    explicit_start: bool = False


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


_KEY_LINE = re.compile(r"^( *)(?:- +)?[^\s#-][^#]*?:\s*(?:#.*)?$")
_DASH_LINE = re.compile(r"^( *)-( +)\S")


def _content_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def detect_indentation(text: str) -> Indentation:
    """The indentation most of `text` uses, in ruamel's terms (defaults 2/2/0 where the text has no example).

    A key that opens a block (`key:` alone on its line) is followed either by a deeper key (mapping
    indent) or by a dash (its column gives the offset, the item content's column the sequence indent).
    """
    mappings: Counter[int] = Counter()
    sequences: Counter[tuple[int, int]] = Counter()
    lines = _content_lines(text)
    for line, following in zip(lines, lines[1:]):
        opener = _KEY_LINE.match(line)
        if opener is None or line.rstrip().endswith(("|", ">", "|-", ">-")):
            continue
        column = len(line) - len(line.lstrip(" "))
        if line.lstrip().startswith("-"):
            # `- key:` opens a block relative to the item content, not the dash
            column += len(line.lstrip()) - len(line.lstrip()[1:].lstrip())
        next_column = len(following) - len(following.lstrip(" "))
        dash = _DASH_LINE.match(following)
        if dash is not None and next_column >= column:
            offset = next_column - column
            sequences[(offset + 1 + len(dash.group(2)), offset)] += 1
        elif next_column > column:
            mappings[next_column - column] += 1
    mapping = mappings.most_common(1)[0][0] if mappings else 2
    sequence, offset = sequences.most_common(1)[0][0] if sequences else (2, 0)
    return Indentation(mapping=mapping, sequence=sequence, offset=offset)


def detect_layout(text: str) -> Layout:
    """Indentation, line ending, final newline and `---` of a YAML text."""
    first = next((line for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
    return Layout(
        indentation=detect_indentation(text),
        newline="\r\n" if "\r\n" in text else "\n",
        final_newline=text.endswith("\n"),
        explicit_start=first.rstrip() == "---",
    )


def _yaml(layout: Layout) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    yaml.width = 1 << 16  # never refold long lines
    indent = layout.indentation
    yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    yaml.explicit_start = layout.explicit_start
    return yaml


def load_tree(text: str, source: str = "<input>") -> tuple[CommentedMap, Layout]:
    """Parse a Cluster file into a round-trip tree (quotes kept) and the layout to dump it back with."""
    checked = parse_yaml(text, source)  # size, depth, duplicate keys, aliases: the shared rules
    if not isinstance(checked, CommentedMap) or checked.get("kind") != "Cluster":
        raise ClusterSpecError(f"{source}: not a Cluster object", hint="pass a file with `kind: Cluster`")
    layout = detect_layout(text)
    tree = _yaml(layout).load(text.replace("\r\n", "\n"))
    assert isinstance(tree, CommentedMap)  # parse_yaml accepted the same text
    return tree, layout


def dump_tree(tree: CommentedMap, layout: Layout) -> str:
    """Write the tree back as text in the file's own layout."""
    stream = io.StringIO()
    _yaml(layout).dump(tree, stream)
    text = stream.getvalue()
    if not layout.final_newline:
        text = text.rstrip("\n")
    return text.replace("\n", layout.newline) if layout.newline != "\n" else text


def reformatted_lines(text: str, layout: Layout) -> int:
    """How many lines a plain load and dump would change: non-zero when the file mixes styles."""
    tree = _yaml(layout).load(text.replace("\r\n", "\n"))
    again = dump_tree(tree, layout)
    matcher = difflib.SequenceMatcher(None, text.splitlines(), again.splitlines(), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


# --- comments between list items ------------------------------------------------------------------


def _is_block(node: Any) -> bool:
    return isinstance(node, (CommentedMap, CommentedSeq)) and len(node) > 0 and not node.fa.flow_style()


def _slot_after(seq: CommentedSeq, index: int) -> tuple[Any, Any, int]:
    """Where ruamel keeps the comment lines after `seq[index]`: (holder, key, position in holder.ca.items[key]).

    That is the deepest last scalar (or flow collection) of the item, or the item itself.
    """
    holder: Any = seq
    key: Any = index
    while _is_block(holder[key]):
        holder = holder[key]
        key = list(holder)[-1] if isinstance(holder, CommentedMap) else len(holder) - 1
    return holder, key, 2 if isinstance(holder, CommentedMap) else 0


def _token_text(token: CommentToken) -> str:
    value: str = token.value
    return value if value.startswith("\n") else " " * token.column + value


def _take_between(seq: CommentedSeq, index: int) -> str:
    """Detach and return the comment text between item `index` and the next (or the list's end)."""
    text = ""
    holder, key, at = _slot_after(seq, index)
    entry = holder.ca.items.get(key)
    token = entry[at] if entry is not None else None
    if token is not None:
        value: str = token.value
        eol, _, text = value.partition("\n") if not value.startswith("\n") else ("", "", value[1:])
        entry[at] = CommentToken(eol + "\n", token.start_mark) if eol else None
    following = seq.ca.items.get(index + 1)
    if following is not None and following[1]:
        text += "".join(_token_text(t) for t in following[1])
        following[1] = None
    return text


def _put_between(seq: CommentedSeq, index: int, text: str) -> None:
    """Set the comment text that follows item `index` (after any end-of-line comment it has)."""
    holder, key, at = _slot_after(seq, index)
    entry = holder.ca.items.setdefault(key, [None, None, None, None])
    token = entry[at]
    eol = token.value.partition("\n")[0] if token is not None and token.value.startswith("#") else ""
    if not eol and not text:
        entry[at] = None
        return
    mark = token.start_mark if eol else CommentMark(0)
    entry[at] = CommentToken((eol or "") + "\n" + text, mark)


def _head_tokens(text: str) -> list[CommentToken]:
    tokens = []
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        tokens.append(CommentToken(stripped + "\n" if stripped else "\n", CommentMark(len(line) - len(stripped))))
    return tokens


def _delete_item(parent: CommentedMap, key: str, index: int) -> None:
    """Delete `parent[key][index]` so that every comment line around it stays where it was written."""
    seq: CommentedSeq = parent[key]
    above = _take_between(seq, index - 1) if index > 0 else ""
    below = _take_between(seq, index)
    del seq[index]
    if index > 0:
        _put_between(seq, index - 1, above + below)
    elif seq and below:
        head = seq.ca.comment[1] if seq.ca.comment and seq.ca.comment[1] else []
        seq.ca.comment = [None, head + _head_tokens(below)]
        parent.ca.items.setdefault(key, [None, None, None, None])[3] = seq.ca.comment[1]
    elif not seq:
        # `key: []` now: the lines that stood under `key:` and after the item follow that line
        head = seq.ca.comment[1] if seq.ca.comment and seq.ca.comment[1] else []
        seq.ca.comment = None
        seq.fa.set_flow_style()
        entry = parent.ca.items.setdefault(key, [None, None, None, None])
        entry[3] = None
        text = "".join(_token_text(t) for t in head) + below + "".join(_token_text(t) for t in seq.ca.end or [])
        seq.ca.end = []
        entry[2] = CommentToken("\n" + text, CommentMark(0)) if text else None


def _append_item(seq: CommentedSeq, value: Any) -> None:
    """Append to a list, keeping the comment lines after its last item after the new last item."""
    if not seq:
        seq.fa.set_block_style()
        seq.append(value)
        return
    text = _take_between(seq, len(seq) - 1)
    seq.append(value)
    _put_between(seq, len(seq) - 1, text)


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


def _block_scalar(text: str) -> str:
    return LiteralScalarString(text) if "\n" in text.rstrip("\n") else text


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
    values = CommentedMap(rawValuesType="yaml", rawValues=_block_scalar(entry.raw_values))
    values["values"] = _new_list(entry.set_values)
    spec = CommentedMap(type="HelmV3", name=entry.name, targetNamespace=entry.namespace or entry.name)
    spec["chart"] = chart
    spec["values"] = values
    if entry.depends_on:
        spec["dependsOn"] = _new_list(entry.depends_on)
    _append_item(apps, CommentedMap(app=CommentedMap(metadata=metadata, spec=spec)))


def _new_list(items: Sequence[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    if not items:
        seq.fa.set_flow_style()
    return seq


def remove_app(tree: CommentedMap, name: str) -> None:
    """Remove one bootstrap app; the comment lines around it stay."""
    index, _ = _find_app(tree, name)
    _delete_item(_spec(tree), "bootstrapApps", index)


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
    before = _fingerprint(spec)
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
            values["rawValues"] = _block_scalar(raw_values)
            values["rawValuesType"] = "yaml"
        _edit_settings(values, name, set_values, unset_keys)
    return _fingerprint(spec) != before


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
            _delete_item(values, "values", index)
    for item in set_values:
        key = set_value_key(item)
        keys = [set_value_key(str(s)) for s in settings]
        if key in keys:
            at = keys.index(key)
            settings[at] = _like(settings[at], item)
        else:
            _append_item(settings, _like(settings[-1], item) if settings else item)


def _like(old: Any, text: str) -> Any:
    """`text` quoted the way `old` was (a single-quoted item stays single-quoted)."""
    return type(old)(text) if isinstance(old, str) and type(old) is not str else text


def _fingerprint(node: Any) -> str:
    return repr(_plain(node))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return [(str(k), _plain(v)) for k, v in node.items()]
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return (type(node).__name__, str(node))


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
    _append_item(disabled, _like(disabled[-1], name) if disabled else name)
    return True


def enable_app(tree: CommentedMap, name: str) -> bool:
    """Remove `name` from `spec.features.disabledApps`; False when it was not there."""
    found = _disabled_list(tree, create=False)
    if found is None or name not in found[1]:
        return False
    features, disabled = found
    for index in reversed([i for i, item in enumerate(disabled) if item == name]):
        _delete_item(features, "disabledApps", index)
    return True

"""Parse YAML and JSON text safely into plain data, keeping line numbers for error messages.

Pure: takes text, returns data. Duplicate keys, anchors/aliases (alias bombs), excessive size or
depth are errors that name the source and line. `line_of` finds where a JSON path was written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from toolkit.errors import YamlError

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "dump_plain", "fast_load_plain", "line_of", "mapping_top",
           "parse_yaml", "parse_yaml_all", "to_plain"]

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64


def _yaml(version: tuple[int, int] | None) -> YAML:
    from ruamel.yaml import (
        YAML,  # imported on first use: the fast path below does not need it
    )

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    if version is not None:
        yaml.version = version
    return yaml


def _check_size(text: str, source: str) -> None:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise YamlError(f"{source}: larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB",
                        hint="split the file or remove embedded data")
    _check_depth(text, source)


def _too_deep(source: str, line: int | None) -> YamlError:
    where = f"{source}:{line}" if line else source
    return YamlError(f"{where}: nested deeper than {MAX_DEPTH} levels (the limit)", hint="flatten the document",
                     source=source, line=line, problem=f"nested deeper than {MAX_DEPTH} levels")


def _check_depth(text: str, source: str) -> None:
    """Refuse nesting beyond MAX_DEPTH before the round-trip parser, which recurses per level (a few
    hundred `[` would end in a RecursionError): libyaml's events, counted without recursion."""
    if text.count("[") + text.count("{") + text.count(":") + text.count("- ") <= MAX_DEPTH:
        return
    try:
        from yaml import YAMLError as PyYamlError  # type: ignore[import-untyped]
        from yaml._yaml import CParser  # type: ignore[import-untyped]
    except ImportError:
        return
    parser = CParser(text)
    depth = 0
    try:
        while True:
            event = parser.get_event()
            kind = type(event).__name__
            if kind in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _too_deep(source, event.start_mark.line + 1)
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
            elif kind == "StreamEndEvent":
                return
    except PyYamlError:
        return  # a syntax error: the round-trip parser reports it with its own words
    finally:
        parser.dispose()


def _reject_aliases_and_depth(node: Any, source: str, seen: set[int], depth: int = 0) -> None:
    """Walk the tree once; a node seen twice is an alias, which we refuse (alias bombs)."""
    if depth > MAX_DEPTH:
        raise YamlError(f"{source}: nested deeper than {MAX_DEPTH} levels", hint="flatten the document")
    if isinstance(node, (dict, list)):  # ruamel's CommentedMap/Seq included
        if id(node) in seen:
            line = _node_line(node)
            where = f"{source}:{line}" if line else source
            raise YamlError(f"{where}: YAML anchors and aliases are not allowed",
                            hint="write the value out in full instead of `*alias`", source=source, line=line,
                            problem="YAML anchors and aliases are not allowed")
        seen.add(id(node))
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            _reject_aliases_and_depth(child, source, seen, depth + 1)


def _node_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else None


def _wrap(exc: YAMLError, source: str) -> YamlError:
    from ruamel.yaml.error import MarkedYAMLError

    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = exc.problem or str(exc)
        context = f" ({exc.context})" if exc.context else ""
        hint = "remove or rename the repeated key" if "duplicate" in problem else "fix the YAML syntax at that line"
        return YamlError(f"{source}:{mark.line + 1}:{mark.column + 1}: {problem}{context}", hint=hint,
                         source=source, line=mark.line + 1, problem=f"{problem}{context}")
    return YamlError(f"{source}: {exc}", hint="fix the YAML syntax", source=source, problem=str(exc))


def parse_yaml(text: str, source: str = "<input>", *, version: tuple[int, int] | None = None) -> Any:
    """Parse one YAML/JSON document into ruamel's round-trip nodes (dict/list subclasses with `.lc`).

    `version=(1, 1)` reads the text the way helm does (`yes`/`on` are booleans).
    """
    from ruamel.yaml.error import YAMLError

    _check_size(text, source)
    try:
        data = _yaml(version).load(text)
    except YAMLError as exc:
        raise _wrap(exc, source) from exc
    except RecursionError:  # nesting the depth check could not count (no libyaml)
        raise _too_deep(source, None) from None
    _reject_aliases_and_depth(data, source, set())
    return data


def parse_yaml_all(text: str, source: str = "<input>", *, version: tuple[int, int] | None = None) -> list[Any]:
    """Parse a multi-document YAML stream; empty documents are dropped."""
    from ruamel.yaml.error import YAMLError

    _check_size(text, source)
    try:
        docs = [d for d in _yaml(version).load_all(text) if d is not None]
    except YAMLError as exc:
        raise _wrap(exc, source) from exc
    except RecursionError:
        raise _too_deep(source, None) from None
    for doc in docs:
        _reject_aliases_and_depth(doc, source, set())
    return docs


def to_plain(node: Any) -> Any:
    """Round-trip nodes → plain dicts, lists and scalars (str subclasses become str, etc.)."""
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, (int, float, bool)) else k: to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def line_of(root: Any, path: Sequence[str | int]) -> int | None:
    """The 1-based line where `path` was written in a round-trip tree, or of its nearest parent."""
    node, line = root, _node_line(root)
    for part in path:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, dict) and part in node:
                if lc is not None:
                    line = lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                if lc is not None:
                    line = lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
    return line


# ---------------------------------------------------------------------------------------------------
# The libyaml fast path for plain data

_ANCHOR_OR_ALIAS = re.compile(r"(^|[\s\[{,:-])[&*][^\s]")
_FAST_MAX_CHARS = 1_000_000
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")

# ruamel's implicit resolvers (ruamel/yaml/resolver.py), so that `version=(1, 1)` or `(1, 2)` reads scalars
# exactly as `parse_yaml(text, version=...)` does; forms whose construction differs between libyaml and
# ruamel (octal, binary, sexagesimal, underscores, timestamps, `=`) send the caller to `parse_yaml`.
_RUAMEL_RESOLVERS: list[tuple[tuple[tuple[int, int], ...], str, str, str]] = [
    (((1, 2),), "bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (((1, 1),), "bool", r"""^(?:y|Y|yes|Yes|YES|n|N|no|No|NO
        |true|True|TRUE|false|False|FALSE
        |on|On|ON|off|Off|OFF)$""", "yYnNtTfFoO"),
    (((1, 2),), "float", r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""", "-+0123456789."),
    (((1, 1),), "float", r"""^(?:
         [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""", "-+0123456789."),
    (((1, 2),), "int", r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0o?[0-7_]+
        |[-+]?[0-9_]+
        |[-+]?0x[0-9a-fA-F_]+)$""", "-+0123456789"),
    (((1, 1),), "int", r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0?[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+
        |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""", "-+0123456789"),
    (((1, 2), (1, 1)), "merge", r"^(?:<<)$", "<"),
    (((1, 2), (1, 1)), "null", r"""^(?: ~
        |null|Null|NULL
        | )$""", "~nN"),
    (((1, 2), (1, 1)), "timestamp", r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", "0123456789"),
    (((1, 2), (1, 1)), "value", r"^(?:=)$", "="),
]
_RUAMEL_TRUE = frozenset({"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})


class _NotPlain(Exception):
    """The fast path cannot read this text exactly like the round-trip parser: use `parse_yaml`."""


@lru_cache(maxsize=4)
def _fast_loader(version: tuple[int, int] | None) -> Any:
    """A libyaml loader class (None: PyYAML's own YAML 1.1 resolvers; else ruamel's for `version`)."""
    import yaml

    base = getattr(yaml, "CSafeLoader", None)
    if base is None:
        return None
    if version is None:
        return base

    class _Resolver(yaml.resolver.BaseResolver):  # type: ignore[misc]
        pass

    for versions, kind, pattern, first in _RUAMEL_RESOLVERS:
        if version in versions:
            starts = list(first) + ([""] if kind == "null" else [])  # "" = the empty scalar
            _Resolver.add_implicit_resolver(f"tag:yaml.org,2002:{kind}", re.compile(pattern, re.X), starts)

    class _Loader(yaml.cyaml.CParser, yaml.constructor.SafeConstructor, _Resolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)

    return _Loader


def _scalar_readers(version: tuple[int, int] | None, loader: Any) -> dict[str, Callable[[Any], Any]]:
    tag = "tag:yaml.org,2002:"
    readers: dict[str, Callable[[Any], Any]] = {
        tag + "str": lambda node: node.value,
        tag + "null": lambda node: None,
    }
    if version is None:  # libyaml's own YAML 1.1, timestamps kept as text
        bools = loader.bool_values
        readers[tag + "bool"] = lambda node: bools[node.value.lower()]
        readers[tag + "int"] = loader.construct_yaml_int
        readers[tag + "float"] = loader.construct_yaml_float
        readers[tag + "timestamp"] = lambda node: node.value
        return readers

    def read_int(node: Any) -> int:
        if not _PLAIN_INT.fullmatch(node.value):
            raise _NotPlain
        return int(node.value)

    def read_float(node: Any) -> float:
        if "_" in node.value or ":" in node.value:
            raise _NotPlain
        value: float = loader.construct_yaml_float(node)
        return value

    readers[tag + "bool"] = lambda node: node.value in _RUAMEL_TRUE
    readers[tag + "int"] = read_int
    readers[tag + "float"] = read_float
    return readers


def mapping_top(text: str) -> bool | None:
    """For a file we only package: True when the YAML is well formed with a mapping (or nothing) at its
    top, False when not, None when it cannot tell fast (no libyaml: call `parse_yaml`). Runs libyaml's
    parser without building any objects (a 5,000-line values.yaml in about 2 ms)."""
    try:
        from yaml import YAMLError
        from yaml._yaml import CParser
    except ImportError:
        return None
    parser = CParser(text)
    try:
        parser.raw_parse()  # syntax only, in C
    except YAMLError:
        return False
    finally:
        parser.dispose()
    head = CParser(text)
    try:
        event = head.get_event()
        while type(event).__name__ in ("StreamStartEvent", "DocumentStartEvent"):
            event = head.get_event()
        kind = type(event).__name__
        if kind == "ScalarEvent":  # only a plain null is an empty mapping to helm
            return not event.tag and not event.style and event.value in ("", "~", "null", "Null", "NULL")
        return kind in ("MappingStartEvent", "StreamEndEvent")
    except YAMLError:
        return False
    finally:
        head.dispose()


def fast_load_plain(text: str, *, version: tuple[int, int] | None = None) -> Any:
    """Plain data through libyaml (about 10x faster than `parse_yaml`), or None: then call `parse_yaml`.

    None also comes back for an empty document, and for anything the fast path does not read exactly
    like `parse_yaml` + `to_plain`, or that `parse_yaml` must reject with a located message: anchors and
    aliases, duplicate keys, merge keys, explicit tags, nesting deeper than MAX_DEPTH, huge documents.
    `version=None` keeps libyaml's YAML 1.1 scalars with timestamps as text (what Cluster files get);
    `version=(1, 1)` or `(1, 2)` reads scalars the way `parse_yaml(text, version=...)` does.
    """
    key = (text, version)
    if key in _FAST_RESULTS:
        return _plain_copy(_FAST_RESULTS[key])
    result = _fast_load(text, version)
    if result is not None and len(text) <= _MEMO_MAX_CHARS:
        if len(_FAST_RESULTS) >= 2048:
            _FAST_RESULTS.clear()
        _FAST_RESULTS[key] = _plain_copy(result)
    return result


_FAST_RESULTS: dict[tuple[str, tuple[int, int] | None], Any] = {}
_MEMO_MAX_CHARS = 4096  # values snippets repeat across a fleet's Cluster files; whole files rarely do


def _plain_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_copy(v) for v in value]
    return value


def _fast_load(text: str, version: tuple[int, int] | None) -> Any:
    if len(text) > _FAST_MAX_CHARS or _ANCHOR_OR_ALIAS.search(text):
        return None
    try:
        loader_class = _fast_loader(version)
    except ImportError:  # PyYAML is optional: without it every parse is a round-trip parse
        return None
    if loader_class is None:
        return None
    import yaml

    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _plain(node, _scalar_readers(version, loader), version is not None, 0)
    except (_NotPlain, yaml.YAMLError, ValueError, TypeError, KeyError, RecursionError):
        return None
    finally:
        loader.dispose()


def _plain(node: Any, readers: dict[str, Callable[[Any], Any]], ruamel_keys: bool, depth: int) -> Any:
    """A composed libyaml node → plain data, refusing what only `parse_yaml` handles faithfully."""
    if depth > MAX_DEPTH:
        raise _NotPlain
    kind = node.id
    if kind == "scalar":
        read = readers.get(node.tag)
        if read is None:
            raise _NotPlain
        return read(node)
    if kind == "sequence":
        if node.tag != "tag:yaml.org,2002:seq":
            raise _NotPlain
        return [_plain(child, readers, ruamel_keys, depth + 1) for child in node.value]
    if node.tag != "tag:yaml.org,2002:map":
        raise _NotPlain
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.id != "scalar":
            raise _NotPlain
        key = _plain(key_node, readers, ruamel_keys, depth + 1)
        if ruamel_keys and not isinstance(key, (str, int, float, bool)):
            key = str(key)  # as `to_plain` does
        if key in out:
            raise _NotPlain  # a duplicate key: parse_yaml reports it with its line
        out[key] = _plain(value_node, readers, ruamel_keys, depth + 1)
    return out


def dump_plain(data: Any) -> str:
    """Plain data as block-style YAML, keys in their given order (no trailing newline)."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue().rstrip("\n")

"""The libyaml fast path: plain data from YAML text about 10x faster than the round-trip parser, and
syntax-only checks that build no objects. Whatever it cannot read exactly as `toolkit.core.yamldoc`'s
round-trip parser would (anchors, duplicate keys, tags, deep nesting, huge texts) comes back as None,
and the caller parses it the slow way, which reports it with its line.

Pure: text in, data out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = ["MAX_DEPTH", "deeper_than", "fast_load_plain", "mapping_top"]

MAX_DEPTH = 64


def deeper_than(text: str, limit: int) -> int | None:
    """The 1-based line where the text's nesting first goes past `limit`, or None (also for a syntax
    error, which the parser reports in its own words, or without libyaml): libyaml's events, counted
    without recursion."""
    if text.count("[") + text.count("{") + text.count(":") + text.count("- ") <= limit:
        return None
    try:
        from yaml import YAMLError  # type: ignore[import-untyped]
        from yaml._yaml import CParser  # type: ignore[import-untyped]
    except ImportError:
        return None
    parser = CParser(text)
    depth = 0
    try:
        while True:
            event = parser.get_event()
            kind = type(event).__name__
            if kind in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > limit:
                    return int(event.start_mark.line) + 1
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
            elif kind == "StreamEndEvent":
                return None
    except YAMLError:
        return None
    finally:
        parser.dispose()


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

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

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "fast_load_plain", "line_of", "parse_yaml", "parse_yaml_all",
           "to_plain"]

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64


def _yaml(version: tuple[int, int] | None) -> YAML:
    from ruamel.yaml import YAML  # imported on first use: the fast path below does not need it

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    if version is not None:
        yaml.version = version
    return yaml


def _check_size(text: str, source: str) -> None:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise YamlError(f"{source}: larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB",
                        hint="split the file or remove embedded data")


def _reject_aliases_and_depth(node: Any, source: str, seen: set[int], depth: int = 0) -> None:
    """Walk the tree once; a node seen twice is an alias, which we refuse (alias bombs)."""
    if depth > MAX_DEPTH:
        raise YamlError(f"{source}: nested deeper than {MAX_DEPTH} levels", hint="flatten the document")
    if isinstance(node, (dict, list)):  # ruamel's CommentedMap/Seq included
        if id(node) in seen:
            line = _node_line(node)
            where = f"{source}:{line}" if line else source
            raise YamlError(f"{where}: YAML anchors and aliases are not allowed",
                            hint="write the value out in full instead of `*alias`")
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
        return YamlError(f"{source}:{mark.line + 1}:{mark.column + 1}: {problem}{context}", hint=hint)
    return YamlError(f"{source}: {exc}", hint="fix the YAML syntax")


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

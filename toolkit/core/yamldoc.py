"""Parse YAML and JSON text safely into plain data, keeping line numbers for error messages.

Pure: takes text, returns data. Duplicate keys, anchors/aliases (alias bombs), excessive size or
depth are errors that name the source and line. `line_of` finds where a JSON path was written. The
libyaml fast path (`fast_load_plain`, `mapping_top`) lives in `toolkit.core.fast_yaml` and is
re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from toolkit.core.fast_yaml import MAX_DEPTH, deeper_than, fast_load_plain, mapping_top
from toolkit.errors import YamlError

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "dump_plain", "fast_load_plain", "line_of", "mapping_top",
           "parse_yaml", "parse_yaml_all", "to_plain"]

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


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
    hundred `[` would end in a RecursionError)."""
    line = deeper_than(text, MAX_DEPTH)
    if line is not None:
        raise _too_deep(source, line)


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

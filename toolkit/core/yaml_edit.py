"""Generic ruamel.yaml round-trip editing: load a YAML text into a tree, change it, write it back in the
text's own layout, so a diff of an edit shows only what changed.

Pure: text in, tree edits, text out. Comments, key order, quoting, flow style, indentation, line
endings and the final newline survive. ruamel hangs the comment lines between two list items on the
deepest last node of the first item; removing an item therefore moves those lines to its neighbour
first (see `delete_item`), and appending keeps them after the new last item (`append_item`).
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

__all__ = [
    "Indentation",
    "Layout",
    "append_item",
    "block_scalar",
    "delete_item",
    "detect_indentation",
    "detect_layout",
    "dump_tree",
    "fingerprint",
    "load_round_trip",
    "new_list",
    "quoted_like",
    "reformatted_lines",
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


def load_round_trip(text: str, layout: Layout) -> Any:
    """The round-trip tree of `text` (quotes kept; CRLF read as LF, `dump_tree` writes it back)."""
    return _yaml(layout).load(text.replace("\r\n", "\n"))


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
    again = dump_tree(load_round_trip(text, layout), layout)
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


def delete_item(parent: CommentedMap, key: str, index: int) -> None:
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


def append_item(seq: CommentedSeq, value: Any) -> None:
    """Append to a list, keeping the comment lines after its last item after the new last item."""
    if not seq:
        seq.fa.set_block_style()
        seq.append(value)
        return
    text = _take_between(seq, len(seq) - 1)
    seq.append(value)
    _put_between(seq, len(seq) - 1, text)


# --- new nodes and comparisons --------------------------------------------------------------------


def block_scalar(text: str) -> str:
    """`text` as a literal block scalar (`|`) when it spans several lines, else as it is."""
    return LiteralScalarString(text) if "\n" in text.rstrip("\n") else text


def new_list(items: Sequence[str]) -> CommentedSeq:
    """A list node of `items`; an empty one is written `[]`."""
    seq = CommentedSeq(items)
    if not items:
        seq.fa.set_flow_style()
    return seq


def quoted_like(old: Any, text: str) -> Any:
    """`text` quoted the way `old` was (a single-quoted item stays single-quoted)."""
    return type(old)(text) if isinstance(old, str) and type(old) is not str else text


def fingerprint(node: Any) -> str:
    """A comparable text of a tree's keys, values and scalar types (comments and layout left out)."""
    return repr(_plain(node))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return [(str(k), _plain(v)) for k, v in node.items()]
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return (type(node).__name__, str(node))

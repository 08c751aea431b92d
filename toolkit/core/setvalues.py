"""Helm's `--set` and `--set-string` syntax, parsed the way helm 3 or helm 4 parses it (pkg/strvals).

Each expression holds comma-separated `key=value` pairs; keys nest with `.` and index lists
with `[n]`; `\\` escapes the next character anywhere (`a\\.b=x\\,y` sets key `a.b` to `x,y`);
`{a,b}` is a list. `--set` types values like helm: `true`/`false`/`null` in any letter case,
base-10 int64 integers not starting with `0` (and `0` itself); everything else, floats
included, stays a string. `null` is kept as None here: helm drops such a key only later, when
it coalesces the user values with the chart's defaults.

Helm's quirks are kept on purpose so that our values equal helm's: `a.` and `.a=1` change
nothing, `a[0]` without a value leaves an empty list, `a={}` is `[""]`, an index goes up to
65536, keys nest at most 30 dots deep, and a key that already holds a scalar (or null) cannot
be indexed or nested into (helm fails with "interface conversion").

Helm 3 and 4 differ in one place: a list index cut off by the end of the text (`a[`, `a[1`,
`a[0][`, `b.a[1`). Helm 3 rejects it ("error parsing index: EOF"); helm 4 wraps that end-of-text
error with `%w`, its parser then takes it for a normal end, and the unfinished assignment is dropped
(`a[` sets nothing). Pass `helm_major` to get the helm that runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from toolkit.errors import InputError

__all__ = ["MAX_LIST_INDEX", "MAX_NESTING", "parse_set", "parse_set_string"]

MAX_LIST_INDEX = 65536
"""The largest list index helm accepts in `a[n]=...` (a bigger one is an error)."""

MAX_NESTING = 30
"""The largest number of `.` levels helm accepts in one key."""

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_SIGNED_DIGITS = re.compile(r"[+-]?[0-9]+")
_HINT = (
    "write key=value pairs separated by commas, nest keys with '.', index lists with [n] "
    "(0 to 65536), and escape a literal ',', '.', '=' or '[' with a backslash"
)


def parse_set(expressions: Sequence[str], base: Mapping[str, Any] | None = None, *,
              helm_major: int = 3) -> dict[str, Any]:
    """Apply `--set` expressions in order onto a copy of `base` and return the values the helm of
    `helm_major` (3 or 4) would see.

    Raises:
        InputError: an expression helm would reject; the message quotes it.
    """
    return _apply(expressions, base, as_string=False, helm_major=helm_major)


def parse_set_string(expressions: Sequence[str], base: Mapping[str, Any] | None = None, *,
                     helm_major: int = 3) -> dict[str, Any]:
    """Like `parse_set`, but every value stays a string, as with helm's `--set-string`."""
    return _apply(expressions, base, as_string=True, helm_major=helm_major)


def _apply(expressions: Sequence[str], base: Mapping[str, Any] | None, *, as_string: bool,
           helm_major: int) -> dict[str, Any]:
    if isinstance(expressions, str):
        raise TypeError("expressions must be a sequence of strings, not one string")
    if helm_major not in (3, 4):
        raise ValueError(f"helm_major must be 3 or 4, not {helm_major!r}")
    values: dict[str, Any] = _plain_copy(base) if base is not None else {}
    flag = "--set-string" if as_string else "--set"
    for expression in expressions:
        try:
            _Parser(expression, as_string=as_string, unfinished_index_ends=helm_major >= 4).parse_into(values)
        except _SyntaxProblem as problem:
            raise InputError(f"{flag} {expression!r}: {problem}", hint=_HINT) from None
    return values


def _plain_copy(value: Any) -> Any:
    """A deep copy made of plain dicts and lists, the only containers helm's parser knows."""
    if isinstance(value, Mapping):
        return {key: _plain_copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_copy(item) for item in value]
    return value


class _SyntaxProblem(Exception):
    """An expression that helm rejects; turned into an InputError naming the expression."""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return f"the scalar {value!r}"


def _folds_to(text: str, word: str) -> bool:
    """Case-insensitive equality by simple per-character folding, like Go's strings.EqualFold."""
    return len(text) == len(word) and all(
        char == letter or char.lower() == letter or char.upper() == letter.upper()
        for char, letter in zip(text, word, strict=True)
    )


def _typed(text: str) -> Any:
    for word, value in (("true", True), ("false", False), ("null", None)):
        if _folds_to(text, word):
            return value
    if text == "0":
        return 0
    # Helm reads base-10 int64 only, and only when the text does not start with "0".
    if text and text[0] != "0" and _SIGNED_DIGITS.fullmatch(text):
        number = int(text)
        if _INT64_MIN <= number <= _INT64_MAX:
            return number
    return text


def _store(data: dict[str, Any], key: str, value: Any) -> None:
    if key:  # helm silently ignores an empty key (`=1`, `.a=1`)
        data[key] = value


def _store_at(items: list[Any], index: int, value: Any) -> list[Any]:
    if index < 0:
        raise _SyntaxProblem(f"negative list index {index}")
    if index > MAX_LIST_INDEX:
        raise _SyntaxProblem(f"list index {index} is larger than {MAX_LIST_INDEX}")
    if len(items) <= index:
        items.extend([None] * (index + 1 - len(items)))
    items[index] = value
    return items


class _Parser:
    """One expression, read left to right. Methods that return a bool return True when the text
    ended where helm's parser stops early (its io.EOF), which skips the assignment in progress."""

    def __init__(self, text: str, *, as_string: bool, unfinished_index_ends: bool) -> None:
        self._text = text
        self._pos = 0
        self._as_string = as_string
        # helm 4: a list index cut off by the end of the text ends the parse instead of failing it
        self._unfinished_index_ends = unfinished_index_ends

    def parse_into(self, data: dict[str, Any]) -> None:
        while not self._key(data, 0):
            pass

    def _value_of(self, raw: str) -> Any:
        return raw if self._as_string else _typed(raw)

    def _peek(self) -> str | None:
        return self._text[self._pos] if self._pos < len(self._text) else None

    def _until(self, stops: str) -> tuple[str, str | None]:
        """Unescaped text up to the first unescaped stop character, and that character (None at the end)."""
        out: list[str] = []
        text = self._text
        while self._pos < len(text):
            char = text[self._pos]
            self._pos += 1
            if char in stops:
                return "".join(out), char
            if char == "\\":
                if self._pos >= len(text):
                    return "".join(out), None  # a trailing backslash is dropped
                out.append(text[self._pos])
                self._pos += 1
            else:
                out.append(char)
        return "".join(out), None

    def _key(self, data: dict[str, Any], depth: int) -> bool:
        key, stop = self._until("=[,.")
        if stop is None:
            if not key:
                return True
            raise _SyntaxProblem(f"key {key!r} has no value")
        if stop == ",":
            raise _SyntaxProblem(f"key {key!r} has no value (it is followed by ',')")
        if stop == "=":
            value, ended = self._value()
            _store(data, key, value)
            return ended
        if stop == "[":
            index = self._index(key)
            if index is None:
                return True
            items: list[Any] = []
            if key in data:
                existing = data[key]
                if not isinstance(existing, list):
                    raise _SyntaxProblem(f"key {key!r} holds {_kind(existing)}, it cannot be indexed as a list")
                items = existing
            items, ended = self._list_item(items, index, depth)
            _store(data, key, items)
            return ended
        # stop == "."
        depth += 1
        if depth > MAX_NESTING:
            raise _SyntaxProblem(f"key is nested more than {MAX_NESTING} levels deep")
        inner: dict[str, Any] = {}
        if key in data:
            existing = data[key]
            if not isinstance(existing, dict):
                raise _SyntaxProblem(f"key {key!r} holds {_kind(existing)}, it cannot hold the nested key")
            inner = existing
        ended = self._key(inner, depth)
        if not ended and not inner:
            raise _SyntaxProblem(f"key {key!r} is followed by '.' but no nested key")
        if inner:
            _store(data, key, inner)
        return ended

    def _index(self, key: str) -> int | None:
        """The index up to `]`; None when the text ends first and the helm takes that for the end."""
        raw, stop = self._until("]")
        if stop is None:
            if self._unfinished_index_ends:
                return None
            raise _SyntaxProblem(f"list index after {key!r} has no closing ']'")
        if not _SIGNED_DIGITS.fullmatch(raw):
            raise _SyntaxProblem(f"list index {raw!r} after {key!r} is not an integer")
        index = int(raw)
        if not _INT64_MIN <= index <= _INT64_MAX:
            raise _SyntaxProblem(f"list index {raw!r} after {key!r} is out of range")
        return index

    def _list_item(self, items: list[Any], index: int, depth: int) -> tuple[list[Any], bool]:
        if index < 0:
            raise _SyntaxProblem(f"negative list index {index}")
        rest, stop = self._until("[.=")
        if rest:
            raise _SyntaxProblem(f"unexpected {rest!r} after list index [{index}]")
        if stop is None:
            return items, True
        if stop == "=":
            value, _ = self._value()
            return _store_at(items, index, value), False
        if stop == "[":
            inner_index = self._index(f"[{index}]")
            if inner_index is None:
                return items, True
            nested: list[Any] = []
            if index < len(items) and items[index] is not None:
                existing = items[index]
                if not isinstance(existing, list):
                    raise _SyntaxProblem(f"item [{index}] holds {_kind(existing)}, it cannot be indexed as a list")
                nested = existing
            nested, ended = self._list_item(nested, inner_index, depth)
            if ended:
                return items, True
            return _store_at(items, index, nested), False
        # stop == ".": an item that is not a map is replaced by one, as helm does
        inner: dict[str, Any] = {}
        if index < len(items):
            if not isinstance(items[index], dict):
                items[index] = {}
            inner = items[index]
        if self._key(inner, depth):
            return items, True
        return _store_at(items, index, inner), False

    def _value(self) -> tuple[Any, bool]:
        """The value after '=': a `{...}` list or one scalar. True when the text ended right at '='."""
        first = self._peek()
        if first is None:
            return "", True
        if first != "{":
            raw, _ = self._until(",")
            return self._value_of(raw), False
        self._pos += 1
        values: list[Any] = []
        while True:
            raw, stop = self._until(",}")
            if stop is None:
                raise _SyntaxProblem("list value has no closing '}'")
            values.append(self._value_of(raw))
            if stop == "}":
                if self._peek() == ",":
                    self._pos += 1
                return values, False

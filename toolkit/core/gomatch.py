"""Go's `path/filepath.Match` on Unix, rule for rule, as helm's `.helmignore` uses it.

Not a translation to regular expressions: the same chunk scanner and matcher, so the corner cases come
out as Go's do. `*` and `?` never cross `/`; a class negates with `^` only (`[!a]` matches `!` or `a`);
`\\` escapes; a malformed pattern (`[a-]`, `[]a]`, an unclosed class, a trailing `\\`) is an error
when the matcher reaches it (after a chunk that failed, the rest goes unread, as in Go). Text comes in
as `str` (undecodable bytes as `surrogateescape`) and is matched as Go's bytes, runes decoded as Go's.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["BadPattern", "go_match", "go_trim_space"]

_RUNE_ERROR = 0xFFFD
_BACKSLASH, _OPEN, _CLOSE, _STAR, _DASH, _QUESTION, _SLASH = b"\\[]*-?/"
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                      "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


class BadPattern(ValueError):
    """Go's `filepath.ErrBadPattern`: "syntax error in pattern"."""

    def __init__(self, why: str) -> None:
        super().__init__(f"syntax error in pattern ({why})")


def go_trim_space(text: str) -> str:
    """`strings.TrimSpace`: Go's Unicode white space, which is not quite Python's `str.strip()`."""
    start, end = 0, len(text)
    while start < end and text[start] in _GO_SPACE:
        start += 1
    while end > start and text[end - 1] in _GO_SPACE:
        end -= 1
    return text[start:end]


@lru_cache(maxsize=1024)
def _simple_regex(pattern: str) -> re.Pattern[str] | None:
    """For a pattern of only literals, `*` and `?` (no class, no escape: nothing that can be malformed),
    the equivalent regular expression: each chunk has a fixed length, so Go's leftmost choice per star
    finds a match exactly when one exists. `?` is one character, which is one rune (a lone undecodable
    byte is one surrogate escape, and one RuneError to Go)."""
    if "[" in pattern or "\\" in pattern:
        return None
    return re.compile("".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in pattern),
                      re.DOTALL)


def _decode_rune(data: bytes) -> tuple[int, int]:
    """`utf8.DecodeRune`: the first rune and its width; an invalid sequence is RuneError, width 1."""
    for width in (1, 2, 3, 4):
        try:
            return ord(data[:width].decode("utf-8")), width
        except UnicodeDecodeError:
            continue
    return _RUNE_ERROR, 1


def _scan_chunk(pattern: bytes) -> tuple[bool, bytes, bytes]:
    star = False
    while pattern[:1] == b"*":
        pattern, star = pattern[1:], True
    in_range, i = False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == _BACKSLASH:
            if i + 1 < len(pattern):
                i += 1
        elif char == _OPEN:
            in_range = True
        elif char == _CLOSE:
            in_range = False
        elif char == _STAR and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: bytes) -> tuple[int, bytes]:
    if not chunk or chunk[0] in (_DASH, _CLOSE):
        raise BadPattern("a class range is missing an end")
    if chunk[0] == _BACKSLASH:
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern("a class ends in `\\`")
    rune, width = _decode_rune(chunk)
    if rune == _RUNE_ERROR and width == 1:
        raise BadPattern("a class holds an undecodable byte")
    rest = chunk[width:]
    if not rest:
        raise BadPattern("an unclosed class")
    return rune, rest


def _match_chunk(chunk: bytes, name: bytes) -> bytes | None:
    """The rest of `name` after `chunk` matched its start, None when it did not; raises on bad syntax
    (checked to the chunk's end even after a failure, as Go does)."""
    failed = False
    while chunk:
        if not failed and not name:
            failed = True
        head = chunk[0]
        if head == _OPEN:
            rune = 0
            if not failed:
                rune, width = _decode_rune(name)
                name = name[width:]
            chunk = chunk[1:]
            negated = chunk[:1] == b"^"
            if negated:
                chunk = chunk[1:]
            matched, ranges = False, 0
            while True:
                if chunk[:1] == b"]" and ranges > 0:
                    chunk = chunk[1:]
                    break
                low, chunk = _get_esc(chunk)
                high = low
                if chunk[0] == _DASH:
                    high, chunk = _get_esc(chunk[1:])
                if low <= rune <= high:
                    matched = True
                ranges += 1
            if matched == negated:
                failed = True
        elif head == _QUESTION:
            if not failed:
                if name[0] == _SLASH:
                    failed = True
                name = name[_decode_rune(name)[1]:]
            chunk = chunk[1:]
        else:
            if head == _BACKSLASH:
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern("the pattern ends in `\\`")
            if not failed:
                if chunk[0] != name[0]:
                    failed = True
                name = name[1:]
            chunk = chunk[1:]
    return None if failed else name


def go_match(pattern: str, name: str) -> bool:
    """`filepath.Match(pattern, name)`; raises BadPattern where Go returns ErrBadPattern."""
    simple = _simple_regex(pattern)
    if simple is not None:
        return simple.fullmatch(name) is not None
    return _match(pattern.encode("utf-8", "surrogateescape"), name.encode("utf-8", "surrogateescape"))


def _match(pattern: bytes, name: bytes) -> bool:
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return _SLASH not in name  # a trailing `*` matches the rest unless it holds a `/`
        rest = _match_chunk(chunk, name)
        if rest is not None and (not rest or pattern):
            name = rest
            continue
        if star:
            skipped = False
            i = 0
            while i < len(name) and name[i] != _SLASH:
                rest = _match_chunk(chunk, name[i + 1:])
                if rest is not None:
                    if not pattern and rest:
                        i += 1
                        continue
                    name, skipped = rest, True
                    break
                i += 1
            if skipped:
                continue
        return False  # without looking at the rest: `.*\\` is "bad" only for names it gets that far in
    return not name

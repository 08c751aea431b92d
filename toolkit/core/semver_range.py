"""Helm's chart version ranges (Masterminds/semver 3.5, as in helm 3.22), evaluated in Python.

A range is `||`-separated groups of comparators joined by spaces or commas: `>=1.2 <2`,
`~1.2.3, !=1.2.5 || ^2.0.0`, `1.x`, `1.2.3 - 1.4`. python-semver compares concrete versions;
this module adds the grammar and Masterminds' rules around it, quirks included:

* partial versions are wildcards: `1.2` = `1.2.x` = `~1.2`; `>1.2` = `>=1.3.0`; `<=1` = `<2.0.0`
* `^0.2.3` = `>=0.2.3 <0.3.0`, `^0.0.3` = `=0.0.3`, `^0` = `<1.0.0`, but `^*` = `=0.0.0`
  and `<=*` = `<0.1.0`, `!=*` = `!=0.0.0` (Masterminds' code, not its comments)
* a prerelease candidate matches only a group that has a comparator with a prerelease
* helm treats an empty range as `*`; a range is at most 512 characters and 32 groups
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import semver

from toolkit.core.version_text import VERSION_HINT, checked_parts, version_parts
from toolkit.errors import InputError

__all__ = ["VersionRange", "best_match", "is_exact", "parse_range", "parse_version"]

_MAX_RANGE_LENGTH = 512
_MAX_GROUPS = 32
_MAX_VERSION_LENGTH = 256

# Go's RE2 `\s` is exactly these five characters; Python's is wider.
_WS = r"[\t\n\f\r ]"
# A version part may be any run of digits, wildcards and '|' (helm accepts `1.x.|`: parts after
# a wildcard are ignored); parts that are read must still be plain numbers.
_PART = r"[0-9xX*|]+"
_IDENTIFIERS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_VERSION_PATTERN = (
    rf"v?(?P<major>{_PART})(?:\.(?P<minor>{_PART}))?(?:\.(?P<patch>{_PART}))?"
    rf"(?:-(?P<pre>{_IDENTIFIERS}))?(?:\+(?P<build>{_IDENTIFIERS}))?"
)
_VERSION_NAMELESS = re.sub(r"\?P<\w+>", "?:", _VERSION_PATTERN)
_OPERATOR = r"(?:>=|=>|<=|=<|!=|~>|>|<|=|~|\^|)"
_COMPARATOR = re.compile(rf"{_WS}*(?P<op>{_OPERATOR}){_WS}*(?P<version>{_VERSION_PATTERN}){_WS}*")
_FIND_COMPARATOR = re.compile(rf"{_OPERATOR}{_WS}*{_VERSION_NAMELESS}")
_GROUP = re.compile(
    rf"{_WS}*{_OPERATOR}{_WS}*{_VERSION_NAMELESS}{_WS}*"
    rf"(?:(?:{_WS}+|,{_WS}*){_OPERATOR}{_WS}*{_VERSION_NAMELESS}{_WS}*)*"
)
_HYPHEN = re.compile(rf"{_WS}*({_VERSION_NAMELESS}){_WS}+-{_WS}+({_VERSION_NAMELESS}){_WS}*")
_EXACT = re.compile(rf"v?[0-9]+\.[0-9]+\.[0-9]+(?:-{_IDENTIFIERS})?(?:\+{_IDENTIFIERS})?")
_WILDCARDS = frozenset({"x", "X", "*"})
_OPERATOR_NAMES = {"": "=", "=>": ">=", "=<": "<=", "~>": "~"}

_RANGE_HINT = (
    "use comparators such as '>=1.2.0 <2.0.0', '~1.2', '^1.2.3', '1.2.x' or '1.2.0 - 1.4.0', "
    "separated by spaces or commas, with '||' between alternatives"
)
_VERSION_HINT = VERSION_HINT


@dataclass(frozen=True)
class _Comparator:
    """One `op version` test. `wild` says from which part on the version was a wildcard or missing:
    "major", "minor", "patch", or "" for a complete version."""

    op: str
    version: semver.Version
    wild: str

    def allows(self, candidate: semver.Version) -> bool:  # noqa: C901, PLR0911 - one branch per operator
        c, v = self.version, candidate
        if self.op == "=":
            return self._tilde(v) if self.wild else v.compare(c) == 0
        if self.op == "<":
            return v.compare(c) < 0
        if self.op == ">=":
            return v.compare(c) >= 0
        if self.op == ">":
            if not self.wild or self.wild == "major":
                return v.compare(c) > 0
            if v.major != c.major:
                return v.major > c.major
            return self.wild == "patch" and v.minor > c.minor
        if self.op == "<=":
            if not self.wild:
                return v.compare(c) <= 0
            if v.major != c.major:
                return v.major < c.major
            return self.wild == "minor" or v.minor <= c.minor
        if self.op == "!=":
            return self._not_equal(v)
        if self.op == "~":
            return self._tilde(v)
        return self._caret(v)

    def _not_equal(self, v: semver.Version) -> bool:
        c = self.version
        if self.wild in ("minor", "patch"):
            if v.major != c.major:
                return True
            if self.wild == "minor":
                return False
            if v.minor != c.minor:
                return True
            return (v.prerelease or "") != (c.prerelease or "")
        if self.wild == "major" and (v.major, v.minor, v.patch) != (c.major, c.minor, c.patch):
            return True
        return v.compare(c) != 0

    def _tilde(self, v: semver.Version) -> bool:
        c = self.version
        if v.compare(c) < 0:
            return False
        if (c.major, c.minor, c.patch) == (0, 0, 0) and self.wild not in ("minor", "patch"):
            return True  # `~0.0.0` and `~*` accept everything from 0.0.0 on
        if v.major != c.major:
            return False
        return self.wild == "minor" or v.minor == c.minor

    def _caret(self, v: semver.Version) -> bool:
        c = self.version
        if v.compare(c) < 0:
            return False
        if c.major > 0 or self.wild == "minor":
            return v.major == c.major
        if v.major > 0:
            return False
        if c.minor > 0 or self.wild == "patch":
            return v.minor == c.minor
        if v.minor > 0:
            return False
        return v.patch == c.patch


@dataclass(frozen=True)
class VersionRange:
    """A parsed helm version range: OR groups of AND-ed comparators."""

    text: str
    _groups: tuple[tuple[_Comparator, ...], ...]

    def __str__(self) -> str:
        return self.text

    def allows(self, version: str) -> bool:
        """True when helm would accept `version` for this range.

        Raises:
            InputError: `version` is not a version helm can read.
        """
        return self._allows(parse_version(version))

    def _allows(self, candidate: semver.Version) -> bool:
        for group in self._groups:
            if candidate.prerelease and not any(comparator.version.prerelease for comparator in group):
                continue
            if all(comparator.allows(candidate) for comparator in group):
                return True
        return False


@lru_cache(maxsize=1024)
def parse_range(text: str) -> VersionRange:
    """Parse a helm version range; the empty string means any release (`*`). Results are memoized.

    Raises:
        InputError: the range is not valid helm syntax.
    """
    if len(text) > _MAX_RANGE_LENGTH:
        raise _range_error(text, f"it is longer than {_MAX_RANGE_LENGTH} characters")
    rewritten = _HYPHEN.sub(lambda m: f">= {m.group(1)}, <= {m.group(2)} ", text) if text else "*"
    alternatives = rewritten.split("||")
    if len(alternatives) > _MAX_GROUPS:
        raise _range_error(text, f"it has more than {_MAX_GROUPS} '||' alternatives")
    groups: list[tuple[_Comparator, ...]] = []
    for alternative in alternatives:
        if not _GROUP.fullmatch(alternative):
            if not alternative.strip():
                raise _range_error(text, "it has an empty alternative around '||'")
            problem = f"{alternative.strip()!r} is not a list of comparators"
            if rewritten != text:
                problem += " (a hyphen range 'A - B' stands alone, without an operator or a second '-')"
            raise _range_error(text, problem)
        tokens = _FIND_COMPARATOR.findall(alternative)
        groups.append(tuple(_parse_comparator(text, token) for token in tokens))
    return VersionRange(text, tuple(groups))


@lru_cache(maxsize=4096)
def parse_version(text: str) -> semver.Version:
    """Read a concrete version the way helm does (`toolkit.core.version_text.version_parts`).

    Raises:
        InputError: helm could not read `text` as a version either.
    """
    return semver.Version(*version_parts(text))


def best_match(range_text: str, versions: Iterable[str]) -> str | None:
    """The version helm picks for `--version range_text` among `versions`, or None.

    Helm takes a version string equal to the range text first, else the highest version the
    range allows. Versions helm cannot read are skipped.

    Raises:
        InputError: the range is not valid helm syntax.
    """
    return _best_match(range_text, tuple(versions))


@lru_cache(maxsize=4096)
def _best_match(range_text: str, candidates: tuple[str, ...]) -> str | None:
    version_range = parse_range(range_text)
    if range_text and range_text in candidates:
        return range_text
    best: tuple[semver.Version, str] | None = None
    for text in candidates:
        try:
            parsed = parse_version(text)
        except InputError:
            continue
        if version_range._allows(parsed) and (best is None or parsed.compare(best[0]) > 0):
            best = (parsed, text)
    return best[1] if best else None


def is_exact(text: str) -> bool:
    """True when `text` is one complete version (`1.2.3`, `v1.2.3-rc.1+build`) with no operator,
    wildcard, missing part, space or second comparator, so it can only ever select that version."""
    if not _EXACT.fullmatch(text):
        return False
    try:
        parse_version(text)
    except InputError:
        return False
    return True


def _range_error(text: str, problem: str) -> InputError:
    return InputError(f"version range {text!r} is not valid: {problem}", hint=_RANGE_HINT)


def _parse_comparator(text: str, token: str) -> _Comparator:
    match = _COMPARATOR.fullmatch(token)
    if match is None:  # cannot happen after the group matched; kept as a guard
        raise _range_error(text, f"{token.strip()!r} is not a comparator")
    major, minor, patch = match["major"], match["minor"], match["patch"]
    dash_pre = f"-{match['pre']}" if match["pre"] else ""
    if major in _WILDCARDS:
        wild, parts, length = "major", ("0", "0", "0"), len(f"0.0.0{dash_pre}")
    elif minor is None or minor in _WILDCARDS:
        wild, parts, length = "minor", (major, "0", "0"), len(f"{major}.0.0{dash_pre}")
    elif patch is None or patch in _WILDCARDS:
        wild, parts, length = "patch", (major, minor, "0"), len(f"{major}.{minor}.0{dash_pre}")
    else:
        wild, parts, length = "", (major, minor, patch), len(match["version"])
    version_text = match["version"]
    if length > _MAX_VERSION_LENGTH:
        raise _range_error(text, f"version {version_text!r} is longer than {_MAX_VERSION_LENGTH} characters")
    try:
        version = _version(*parts, match["pre"], None if wild else match["build"])
    except ValueError as exc:
        raise _range_error(text, f"version {version_text!r}: {exc}") from None
    return _Comparator(_OPERATOR_NAMES.get(match["op"], match["op"]), version, wild)


def _version(major: str, minor: str, patch: str, pre: str | None, build: str | None) -> semver.Version:
    return semver.Version(*checked_parts(major, minor, patch, pre, build))
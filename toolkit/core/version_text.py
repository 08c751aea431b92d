"""A concrete version read the way helm reads one (Masterminds semver's NewVersion), pure and without
the semver library: what `build` needs to check a Chart.yaml, at a fraction of the start-up cost of
`toolkit.core.semver_range` (which builds on it to compare and match ranges)."""

from __future__ import annotations

import re

from toolkit.errors import InputError

__all__ = ["VERSION_HINT", "VersionParts", "checked_parts", "version_parts"]

VersionParts = tuple[int, int, int, "str | None", "str | None"]
"""(major, minor, patch, prerelease, build)"""

VERSION_HINT = ("use a semantic version such as 1.2.3 or 1.2.3-rc.1 (a leading 'v' and a missing minor or patch "
                "are accepted)")
_MAX_VERSION_LENGTH = 256
_UINT64_MAX = 2**64 - 1
_IDENTIFIERS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_CONCRETE = re.compile(
    rf"v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-({_IDENTIFIERS}))?(?:\+({_IDENTIFIERS}))?"
)


def version_parts(text: str) -> VersionParts:
    """The parts of a concrete version as helm reads it: a leading `v`, a missing minor or patch (= 0)
    and leading zeros in numbers are accepted; prerelease and build parts are checked.

    Raises:
        InputError: helm could not read `text` as a version either.
    """
    match = _CONCRETE.fullmatch(text) if len(text) <= _MAX_VERSION_LENGTH else None
    problem = "it is not a semantic version"
    if match:
        major, minor, patch, pre, build = match.groups()
        try:
            return checked_parts(major, minor or "0", patch or "0", pre, build)
        except ValueError as exc:
            problem = str(exc)
    raise InputError(f"version {text!r} is not valid: {problem}", hint=VERSION_HINT)


def checked_parts(major: str, minor: str, patch: str, pre: str | None, build: str | None) -> VersionParts:
    """The parts as numbers, checked as helm checks them; ValueError says what is wrong."""
    return (*_numbers(major, minor, patch), _prerelease(pre), build)


def _numbers(*parts: str) -> tuple[int, int, int]:
    numbers: list[int] = []
    for part in parts:
        if not part.isascii() or not part.isdigit():
            raise ValueError(f"{part!r} is not a number")
        number = int(part)
        if number > _UINT64_MAX:
            raise ValueError(f"{part} is too large")
        numbers.append(number)
    return numbers[0], numbers[1], numbers[2]


def _prerelease(pre: str | None) -> str | None:
    for identifier in pre.split(".") if pre else ():
        if identifier.isdigit() and len(identifier) > 1 and identifier[0] == "0":
            raise ValueError(f"prerelease part {identifier!r} has a leading zero")
    return pre

"""`.helmignore` rules with helm's own semantics (not gitignore's), as pure functions.

Helm matches each rule with Go's `filepath.Match`: a rule without `/` against the base name, a rule
with `/` against the path relative to the chart root (a leading `/` anchors it there), a trailing `/`
only matches folders, `!` negates (helm's negation is known to misbehave, so lint warns about it), and
`**` is an error. A file is left out when it, or any folder above it, is ignored. `templates/.?*` is
always ignored, as helm does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.errors import InputError

__all__ = ["HelmIgnore", "parse_helmignore"]

_DEFAULT_RULES = ("templates/.?*",)


@dataclass(frozen=True, slots=True)
class _Rule:
    text: str
    regex: re.Pattern[str]
    negate: bool
    must_dir: bool
    base_name: bool


def _go_match_regex(pattern: str) -> re.Pattern[str]:
    """Translate a Go `filepath.Match` pattern: `*` and `?` never cross `/`, classes use `^` or `!`."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                raise ValueError("unterminated character class")
            body = pattern[i + 1:end]
            if body[:1] in ("^", "!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


def _parse_rule(line: str, source: str, number: int) -> _Rule | None:
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if "**" in text:
        raise InputError(f"{source}:{number}: `**` is not supported by helm's .helmignore",
                         hint="use `*` patterns per folder level")
    rule, negate = text, False
    if rule.startswith("!") and len(rule) > 1:
        negate, rule = True, rule[1:]
    must_dir = rule.endswith("/")
    rule = rule.rstrip("/") if must_dir else rule
    anchored = rule.startswith("/")
    rule = rule.lstrip("/") if anchored else rule
    try:
        regex = _go_match_regex(rule)
    except (ValueError, re.error) as exc:
        raise InputError(f"{source}:{number}: bad pattern {text!r}: {exc}", hint="fix the pattern") from exc
    return _Rule(text, regex, negate, must_dir, base_name=not anchored and "/" not in rule)


@dataclass(frozen=True, slots=True)
class HelmIgnore:
    """Parsed rules; `ignored(path)` answers for a file path relative to the chart root."""

    rules: tuple[_Rule, ...]

    @property
    def negations(self) -> tuple[str, ...]:
        """The `!` rules, which helm mishandles (lint warns about them)."""
        return tuple(r.text for r in self.rules if r.negate)

    def _ignores(self, path: str, is_dir: bool) -> bool:
        name = path.rsplit("/", 1)[-1]
        for rule in self.rules:
            subject = name if rule.base_name else path
            if rule.negate:
                if rule.must_dir and not is_dir:
                    return True
                if not rule.regex.match(subject):
                    return True
                continue
            if rule.must_dir and not is_dir:
                continue
            if rule.regex.match(subject):
                return True
        return False

    def ignored(self, path: str) -> bool:
        """True when the file or any folder above it is ignored."""
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if self._ignores("/".join(parts[:depth]), is_dir=True):
                return True
        return self._ignores(path, is_dir=False)


def parse_helmignore(text: str, source: str = ".helmignore") -> HelmIgnore:
    """Parse `.helmignore` text (plus helm's default rule) into rules."""
    rules = [r for n, line in enumerate(text.splitlines(), 1) if (r := _parse_rule(line, source, n))]
    rules += [r for line in _DEFAULT_RULES if (r := _parse_rule(line, "<helm default>", 0))]
    return HelmIgnore(tuple(rules))

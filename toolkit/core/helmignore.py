"""`.helmignore` exactly as helm's `pkg/ignore` reads and applies it (not gitignore's rules), pure.

Lines are split as Go's line scanner does (a BOM dropped from the first), trimmed of Go's white space;
`#` starts a comment; `**` and any pattern Go's `filepath.Match` cannot compile are errors. `!` negates
(a lone `!` ignores everything after the rules before it), one trailing `/` means "folders only", a rule
with a leading `/` is matched against the path from the chart root, one with a `/` inside against the
path, any other against the base name, all with Go's pattern semantics (`toolkit.core.gomatch`).
Rules apply as helm walks the chart: names sorted per folder, a folder before its contents, an ignored
folder skipping everything inside. Helm 3's anchored rules lose one more leading `/` each time they are
asked (`//foo` matches `foo` from its second question on), so the walk order matters and is kept;
helm 4 drops one `/` once (`//foo` never matches). `helm_major` picks; builds read as helm 3 does, and
lint warns about such rules.
`templates/.?*` is always appended, as helm does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from toolkit.core.gomatch import BadPattern, go_match, go_trim_space
from toolkit.errors import InputError

__all__ = ["HelmIgnore", "parse_helmignore"]

BOM = b"\xef\xbb\xbf"
_DEFAULT_RULES = ("templates/.?*",)
_MAX_LINE = 64 * 1024  # bufio.Scanner's token limit: a longer line fails helm's parse


_Tree = dict[str, "_Tree"]


@dataclass(frozen=True, slots=True)
class _Rule:
    text: str
    pattern: str
    negate: bool
    must_dir: bool
    anchored: bool
    base_name: bool


@dataclass(slots=True)
class _Asking:
    """One walk's state: how many leading `/` each anchored rule has lost so far."""

    helm_major: int = 3
    trimmed: dict[int, str] = field(default_factory=dict)

    def matches(self, index: int, rule: _Rule, path: str) -> bool:
        pattern = rule.pattern
        if rule.anchored and self.helm_major >= 4:
            pattern = pattern[1:]
        elif rule.anchored:
            pattern = self.trimmed.get(index, pattern)
            pattern = pattern[1:] if pattern.startswith("/") else pattern
            self.trimmed[index] = pattern
        subject = path.rsplit("/", 1)[-1] if rule.base_name else path
        try:
            return go_match(pattern, subject)
        except BadPattern:
            return False  # helm logs "Failed to compile" and treats the rule as not matching


@dataclass(frozen=True, slots=True)
class HelmIgnore:
    """Parsed rules; `select(paths)` keeps the file paths helm would load."""

    rules: tuple[_Rule, ...]
    helm_major: int = 3

    @property
    def negations(self) -> tuple[str, ...]:
        """The `!` rules, which seldom do what their authors expect (lint warns about them)."""
        return tuple(r.text for r in self.rules if r.negate)

    @property
    def double_slashes(self) -> tuple[str, ...]:
        """Anchored rules with more than one leading `/`, which helm 3 and helm 4 read differently."""
        return tuple(r.text for r in self.rules if r.anchored and r.pattern.startswith("//"))

    @property
    def bang_classes(self) -> tuple[str, ...]:
        """Rules with a `[!...]` class, which Go reads as "`!` or ...", not as a negated class."""
        return tuple(r.text for r in self.rules if "[!" in r.pattern)

    def _ignores(self, asking: _Asking, path: str, is_dir: bool) -> bool:
        for index, rule in enumerate(self.rules):
            if rule.negate:
                if rule.must_dir and not is_dir:
                    return True
                if not asking.matches(index, rule, path):
                    return True
                continue
            if rule.must_dir and not is_dir:
                continue
            if asking.matches(index, rule, path):
                return True
        return False

    def select(self, paths: Iterable[str]) -> set[str]:
        """The paths (relative, `/`-separated; one ending in `/` is an empty folder) that survive the
        rules, asked in helm's walk order."""
        tree: _Tree = {}
        for path in paths:
            node = tree
            for part in path.rstrip("/").split("/")[:-1]:
                node = node.setdefault(part + "/", {})
            leaf = path.rstrip("/").rsplit("/", 1)[-1] + ("/" if path.endswith("/") else "")
            node.setdefault(leaf, {})
        kept: set[str] = set()
        self._walk(_Asking(self.helm_major), tree, "", kept)
        return kept

    def _walk(self, asking: _Asking, node: _Tree, prefix: str, kept: set[str]) -> None:
        for key in sorted(node, key=lambda k: k.rstrip("/").encode("utf-8", "surrogateescape")):
            is_dir = key.endswith("/")
            path = prefix + key.rstrip("/") if is_dir else prefix + key
            if self._ignores(asking, path, is_dir):
                continue
            if is_dir and node[key]:
                self._walk(asking, node[key], path + "/", kept)
            else:
                kept.add(path + "/" if is_dir else path)


def _parse_rule(text: str) -> _Rule:
    pattern = text
    negate = pattern.startswith("!")
    pattern = pattern[1:] if negate else pattern
    must_dir = pattern.endswith("/")
    pattern = pattern[:-1] if must_dir else pattern
    anchored = pattern.startswith("/")
    return _Rule(text, pattern, negate, must_dir, anchored, base_name=not anchored and "/" not in pattern)


def _lines(data: bytes, source: str) -> Iterable[tuple[int, str]]:
    """Go's `bufio.ScanLines`: split on `\\n`, drop one `\\r` before it, no empty last line."""
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    for number, raw in enumerate(parts, 1):
        if len(raw) >= _MAX_LINE:
            raise InputError(f"{source}:{number}: a line longer than helm reads (64 KiB)",
                             hint="split or shorten the rule")
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if number == 1 and line.startswith(BOM):
            line = line[len(BOM):]
        yield number, line.decode("utf-8", "surrogateescape")


def parse_helmignore(data: bytes | str, source: str = ".helmignore", *, helm_major: int = 3) -> HelmIgnore:
    """Parse `.helmignore` (bytes as on disk) plus helm's default rule; helm's parse errors raise."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    rules: list[_Rule] = []
    for number, line in _lines(raw, source):
        text = go_trim_space(line)
        if not text or text.startswith("#"):
            continue
        if "**" in text:
            raise InputError(f"{source}:{number}: `{text}`: helm does not support `**` (helm package fails)",
                             hint="use one `*` per folder level, e.g. `*/*.bak`")
        try:
            go_match(text, "abc")
        except BadPattern as exc:
            raise InputError(f"{source}:{number}: `{text}`: {exc}; helm package fails on it",
                             hint="close every `[...]`, end ranges (`[a-z]`), escape a literal `\\`, `[` "
                                  "or `]` with `\\`; negate a class with `^`, not `!`") from exc
        rules.append(_parse_rule(text))
    rules += [_parse_rule(text) for text in _DEFAULT_RULES]
    return HelmIgnore(tuple(rules), helm_major)

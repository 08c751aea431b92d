"""Helpers for the apps tests: the fixtures, where an app's lines are, and which lines an edit touched."""

from __future__ import annotations

import difflib
from pathlib import Path

from toolkit.core.yamldoc import parse_yaml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "apps"
WIDE = FIXTURES / "cluster-indent-2-4-2.yaml"  # mapping 2, sequence 4, offset 2
COMPACT = FIXTURES / "cluster-indent-2-2-0.yaml"  # mapping 2, sequence 2, offset 0 (and `---`)
BOTH = [WIDE, COMPACT]
APPS = {WIDE: ["kube-state-metrics", "ingress-nginx", "local-path"], COMPACT: ["cert-manager", "team-portal", "redis"]}


def _is_content(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def entry_range(text: str, name: str) -> range:
    """0-based lines of the bootstrap app `name`: its `- app:` line to its last non-comment line."""
    apps = parse_yaml(text)["spec"]["bootstrapApps"]
    names = [item["app"]["spec"]["name"] for item in apps]
    index = names.index(name)
    lines = text.splitlines()
    start = apps.lc.item(index)[0]
    dash = _indent(lines[start])
    limit = apps.lc.item(index + 1)[0] if index + 1 < len(apps) else len(lines)
    end = start
    for number in range(start + 1, limit):
        if _is_content(lines[number]):
            if _indent(lines[number]) <= dash:
                break
            end = number
    return range(start, end + 1)


def changes(old: str, new: str) -> list[tuple[str, int, int, int, int]]:
    """The non-equal opcodes of a line diff (lines keep their endings, so this is byte-exact)."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(keepends=True), new.splitlines(keepends=True),
                                      autojunk=False)
    return [op for op in matcher.get_opcodes() if op[0] != "equal"]


def touched_old_lines(old: str, new: str) -> set[int]:
    """Old line numbers an edit replaced or deleted (an insertion counts the line it follows)."""
    touched: set[int] = set()
    for tag, i1, i2, _, _ in changes(old, new):
        touched.update(range(i1, i2) if tag != "insert" else [i1 - 1])
    return touched

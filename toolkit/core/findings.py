"""Findings are values: what lint and validation report, without printing or raising."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from toolkit.errors import YamlError

__all__ = ["Finding", "Severity", "format_findings", "has_errors", "json_path", "yaml_error_finding"]


class Severity(enum.Enum):
    """How bad a finding is: errors fail the command (exit 3), warnings do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: where it is (file, line, JSON path), what is wrong and how to fix it."""

    severity: Severity
    message: str
    file: str = ""
    path: str = "$"
    line: int | None = None
    hint: str | None = None
    rule: str = ""

    def location(self) -> str:
        """`file:line` (or just the file) for humans."""
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_dict(self) -> dict[str, object]:
        """The JSON form used by `--output json`."""
        out: dict[str, object] = {
            "severity": self.severity.value,
            "rule": self.rule,
            "file": self.file,
            "path": self.path,
            "message": self.message,
        }
        if self.line is not None:
            out["line"] = self.line
        if self.hint:
            out["hint"] = self.hint
        return out


def format_findings(findings: Iterable[Finding]) -> str:
    """`file:line: severity: message (at $.path)` lines, each followed by its hint."""
    lines = []
    for f in findings:
        where = f.location()
        head = f"{where}: " if where else ""
        at = f" (at {f.path})" if f.path and f.path != "$" else ""
        lines.append(f"{head}{f.severity.value}: {f.message}{at}")
        if f.hint:
            lines.append(f"  hint: {f.hint}")
    return "\n".join(lines)


def yaml_error_finding(error: YamlError, file: str, rule: str = "yaml-invalid") -> Finding:
    """A YAML parse error as a finding, with the file and line it names."""
    return Finding(Severity.ERROR, error.problem, file=error.source or file, line=error.line, rule=rule,
                   hint=error.hint)


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is an error."""
    return any(f.severity is Severity.ERROR for f in findings)


def json_path(parts: Iterable[object]) -> str:
    """Render path parts as a JSON path: ("a", 0, "b.c") → `$.a[0]["b.c"]`."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "").replace("-", "").isalnum():
            out += f".{part}"
        else:
            out += f"[{str(part)!r}]".replace("'", '"')
    return out

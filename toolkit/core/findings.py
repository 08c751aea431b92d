"""Findings are values: what lint and validation report, without printing or raising."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from toolkit.errors import CatalogInvalid, PlanRejected, YamlError

__all__ = [
    "Finding",
    "Severity",
    "catalog_invalid",
    "format_findings",
    "has_errors",
    "json_path",
    "plan_rejected",
    "yaml_error_finding",
]


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


def _rejection(findings: Sequence[Finding], source: str, what: str) -> str:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    return f"{source}: {errors} error(s){what}\n{format_findings(findings)}"


def plan_rejected(findings: Sequence[Finding], source: str) -> PlanRejected:
    """The error for a Cluster that cannot be planned, carrying (and listing) every finding."""
    return PlanRejected(_rejection(findings, source, "; nothing was planned"), findings=findings,
                        hint="fix the errors above and plan again")


def catalog_invalid(findings: Sequence[Finding], source: str) -> CatalogInvalid:
    """The error for a catalog that breaks its schema or rules, carrying (and listing) every finding."""
    return CatalogInvalid(_rejection(findings, source, " in the catalog"), findings=findings,
                          hint="fix the catalog entries listed above")

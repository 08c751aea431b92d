"""`apps add|remove|set|disable|enable`: edit a Cluster file's app list in place, validated, atomically.

Each verb reads the file, edits its round-trip tree (`toolkit.core.cluster_edit`), dumps it in the file's
own layout, validates the new text and only then writes it (temporary file + rename). When the
edit brings errors the file did not already have, nothing is written and the findings come back in
the result (an edit that removes a broken app from a broken file is still allowed).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from toolkit.actions.validate import validate_cluster_text
from toolkit.adapters.chart_dirs import CatalogChartSource
from toolkit.adapters.files import read_text, write_atomic
from toolkit.adapters.project import load_catalog
from toolkit.core import cluster_edit
from toolkit.core.cluster_edit import AppEntry
from toolkit.core.findings import Finding, Severity, has_errors
from toolkit.core.model import ChartSource
from toolkit.core.yamldoc import parse_yaml
from toolkit.errors import InputError, UsageError

__all__ = [
    "AppsChange",
    "Validator",
    "add_app",
    "cluster_validator",
    "disable_app",
    "enable_app",
    "read_values_file",
    "remove_app",
    "set_app",
]

Validator = Callable[[str, str], list[Finding]]
"""Checks a Cluster file's text (`text, source`) and returns findings; errors block the write."""


@dataclass(frozen=True, slots=True)
class AppsChange:
    """What one `apps` verb did to one file."""

    path: Path
    verb: str
    app: str
    changed: bool
    written: bool
    diff: str
    findings: tuple[Finding, ...] = ()
    reformatted_lines: int = 0
    blocked: bool = False
    """The edit would have added errors, so nothing was written."""

    @property
    def ok(self) -> bool:
        return not self.blocked

    def as_dict(self) -> dict[str, Any]:
        """The JSON form used by `--output json`."""
        return {
            "file": str(self.path),
            "verb": self.verb,
            "app": self.app,
            "changed": self.changed,
            "written": self.written,
            "ok": self.ok,
            "diff": self.diff,
            "reformattedLines": self.reformatted_lines,
            "findings": [f.as_dict() for f in self.findings],
        }


def _edit(path: Path, verb: str, app: str, edit: Callable[[CommentedMap], object], *,
          validate: Validator, dry_run: bool) -> AppsChange:
    text = read_text(path)
    source = str(path)
    tree, layout = cluster_edit.load_tree(text, source)
    reformatted = cluster_edit.reformatted_lines(text, layout)
    try:
        edit(tree)
    except InputError as exc:  # the pure core does not know the file's name
        raise type(exc)(f"{source}: {exc.message}", hint=exc.hint) from exc
    new_text = cluster_edit.dump_tree(tree, layout)
    if new_text == text:
        return AppsChange(path, verb, app, changed=False, written=False, diff="")
    diff = "".join(difflib.unified_diff(text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                        fromfile=f"a/{path.name}", tofile=f"b/{path.name}"))
    findings = tuple(validate(new_text, source))
    blocked = _new_errors(findings, validate(text, source)) if has_errors(findings) else False
    written = not dry_run and not blocked
    if written:
        write_atomic(path, new_text.encode("utf-8"))
    return AppsChange(path, verb, app, changed=True, written=written, diff=diff, findings=findings,
                      reformatted_lines=reformatted, blocked=blocked)


def _new_errors(after: Sequence[Finding], before: Sequence[Finding]) -> bool:
    """Whether the edit brought errors the file did not have (so fixing a broken file stays possible).

    Errors are compared by rule and message: list indices in their paths shift when an app goes.
    """
    def errors(findings: Sequence[Finding]) -> Counter[tuple[str, str]]:
        return Counter((f.rule, f.message) for f in findings if f.severity is Severity.ERROR)

    return bool(errors(after) - errors(before))


def read_values_file(path: Path) -> str:
    """A values file's text, checked to be one YAML mapping (or empty), for `rawValues`."""
    text = read_text(path)
    data = parse_yaml(text, str(path))
    if data is not None and not isinstance(data, dict):
        raise InputError(f"{path}: values must be a YAML mapping, found a {type(data).__name__}",
                         hint="write the values as `key: value` lines")
    return text


def add_app(path: Path, entry: AppEntry, *, validate: Validator, values_file: Path | None = None,
            dry_run: bool = False) -> AppsChange:
    """Append the bootstrap app `entry` (its rawValues read from `values_file` when given)."""
    if values_file is not None:
        entry = dataclasses.replace(entry, raw_values=read_values_file(values_file))
    return _edit(path, "add", entry.name, lambda tree: cluster_edit.add_app(tree, entry),
                 validate=validate, dry_run=dry_run)


def remove_app(path: Path, name: str, *, validate: Validator, dry_run: bool = False) -> AppsChange:
    """Remove the bootstrap app with release name `name`; the comments around it stay."""
    return _edit(path, "remove", name, lambda tree: cluster_edit.remove_app(tree, name),
                 validate=validate, dry_run=dry_run)


def set_app(path: Path, name: str, *, validate: Validator, version: str | None = None,
            set_values: Sequence[str] = (), unset_keys: Sequence[str] = (), values_file: Path | None = None,
            dry_run: bool = False) -> AppsChange:
    """Change one app's chart version, `values[]` settings and/or rawValues (from `values_file`)."""
    if version is None and not set_values and not unset_keys and values_file is None:
        raise UsageError(f"nothing to change for app `{name}`",
                         hint="pass --version, --set, --unset or --values-file")
    raw_values = read_values_file(values_file) if values_file is not None else None
    return _edit(path, "set", name,
                 lambda tree: cluster_edit.set_app(tree, name, version=version, set_values=set_values,
                                                   unset_keys=unset_keys, raw_values=raw_values),
                 validate=validate, dry_run=dry_run)


def disable_app(path: Path, name: str, *, validate: Validator, dry_run: bool = False) -> AppsChange:
    """Add `name` to `spec.features.disabledApps` (a no-op when it is there already)."""
    return _edit(path, "disable", name, lambda tree: cluster_edit.disable_app(tree, name),
                 validate=validate, dry_run=dry_run)


def enable_app(path: Path, name: str, *, validate: Validator, dry_run: bool = False) -> AppsChange:
    """Remove `name` from `spec.features.disabledApps` (a no-op when it is not there)."""
    return _edit(path, "enable", name, lambda tree: cluster_edit.enable_app(tree, name),
                 validate=validate, dry_run=dry_run)


def cluster_validator(root: Path, charts: ChartSource | None = None) -> Validator:
    """The validator the CLI uses: `validate_cluster_text` with the catalog under `root` and its charts
    (or `charts`, which may also reach registries for custom apps)."""
    catalog = load_catalog(root)
    charts = charts if charts is not None else CatalogChartSource(root)
    return lambda text, source: validate_cluster_text(text, source, catalog, charts)

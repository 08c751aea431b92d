"""Small pieces every command shares: the --output option, settings, JSON and findings rendering."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from toolkit.findings import Finding, Severity
from toolkit.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["echo_json", "output_option", "render_findings", "root_option", "settings_from"]


def output_option(*choices: str) -> Callable[[F], F]:
    """`--output/-o` with the given formats, the first being the default."""
    return click.option("--output", "-o", "output", type=click.Choice(choices), default=choices[0],
                        show_default=True, help="Output format.")


def root_option(func: F) -> F:
    """`--root DIR`: the project folder holding catalog/, charts/ and schemas/."""
    return click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Project folder (default: nearest parent with catalog/catalog.yaml).")(func)


def settings_from(root: Path | None) -> Settings:
    """Settings for this run, knowing whether stdout is a terminal."""
    return load_settings(root=root, is_terminal=sys.stdout.isatty())


def echo_json(data: object) -> None:
    """Print data as stable, indented JSON."""
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def render_findings(findings: Iterable[Finding]) -> None:
    """`file:line: severity: message (at $.path)` and an indented hint, errors to stderr."""
    for finding in findings:
        where = finding.location()
        prefix = f"{where}: " if where else ""
        path = f" (at {finding.path})" if finding.path and finding.path != "$" else ""
        rule = f" [{finding.rule}]" if finding.rule else ""
        click.echo(f"{prefix}{finding.severity.value}: {finding.message}{path}{rule}",
                   err=finding.severity is Severity.ERROR)
        if finding.hint:
            click.echo(f"    hint: {finding.hint}", err=finding.severity is Severity.ERROR)

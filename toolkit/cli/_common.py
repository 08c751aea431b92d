"""Small pieces every command shares: the --output option, settings, JSON and findings rendering."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from toolkit.adapters.settings import Settings, load_settings
from toolkit.core.duration import duration_seconds
from toolkit.core.findings import Finding, Severity, format_findings
from toolkit.errors import InputError

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["echo_json", "helm_option", "output_option", "render_findings", "root_option", "settings_from"]


class Duration(click.ParamType):  # type: ignore[type-arg]
    """A Go duration as helm takes it (`90s`, `5m`, `1h30m`; a bare number is seconds), checked before
    anything runs. The value is the duration text for helm, or with `seconds=True` a float of seconds."""

    name = "duration"

    def __init__(self, *, seconds: bool = False) -> None:
        self.seconds = seconds

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = f"{value}s"
        else:
            text = str(value).strip()
            text = f"{text}s" if text.replace(".", "", 1).isdigit() else text
        parsed = duration_seconds(text)
        if parsed is None:
            self.fail(f"{value!r} is not a duration: write e.g. 90s, 5m or 1h30m", param, ctx)
        return parsed if self.seconds else text


class InputPath(click.Path):
    """A file or folder that must exist. A missing one is invalid input (exit 3, the same as when a verb
    finds it missing itself), not a usage error: `plan x.yaml` and `apply x.yaml` answer alike."""

    def __init__(self, *, file_okay: bool = True, dir_okay: bool = True) -> None:
        super().__init__(exists=True, file_okay=file_okay, dir_okay=dir_okay, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not os.path.lexists(os.fsdecode(value)):
            kind = "folder" if not self.file_okay else "file"
            raise InputError(f"{os.fsdecode(value)}: no such {kind}", hint="check the path")
        return super().convert(value, param, ctx)


class ChartArgument(click.ParamType):  # type: ignore[type-arg]
    """A chart folder, or the name of a catalog app (`lint cilium`): resolved by `chart_folders`."""

    name = "chart"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(value)


def output_option(*choices: str) -> Callable[[F], F]:
    """`--output/-o` with the given formats, the first being the default."""
    return click.option("--output", "-o", "output", type=click.Choice(choices), default=choices[0],
                        show_default=True, callback=_wants_json, help="Output format.")


def root_option(func: F) -> F:
    """`--root DIR`: the project folder holding catalog/, charts/ and schemas/."""
    return click.option("--root", "--catalog", "root", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Project folder holding catalog/catalog.yaml [default: TKE_CATALOG_ROOT, else the nearest "
                             "parent of the working directory with one, else the bundled catalog].")(func)


def helm_option(func: F) -> F:
    """`--helm PATH`: the helm CLI to run, over TKE_CATALOG_HELM, `helm` on PATH and the cached build."""
    return click.option("--helm", "helm", metavar="PATH", default=None,
                        help="The helm CLI to run (3.18.5+ or 4.x) [default: TKE_CATALOG_HELM, else `helm` on PATH, "
                             "else the one scripts/setup.sh built].")(func)


def settings_from(root: Path | None, helm: str | None = None) -> Settings:
    """Settings for this run, knowing whether stdout is a terminal; `helm` is the `--helm` flag."""
    settings = load_settings(root=root, is_terminal=sys.stdout.isatty(), helm=helm)
    if settings.bundled_fallback:
        click.echo(f"note: no catalog/catalog.yaml here or above: using the bundled catalog at {settings.root} "
                   "(pass --root or set TKE_CATALOG_ROOT)", err=True)
    return settings


def shown_path(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def release_names(values: Iterable[str]) -> frozenset[str]:
    """Names from a repeatable, comma-separated option (`--take-over a,b --take-over c`)."""
    return frozenset(name.strip() for value in values for name in value.split(",") if name.strip())


def _wants_json(ctx: click.Context, param: click.Parameter, value: str) -> str:
    ctx.meta["tke-catalog.output"] = value  # for the error handler: a failure under -o json prints a document
    ctx.meta["tke-catalog.verb"] = verb_of(ctx)
    return value


def verb_of(ctx: click.Context) -> str:
    """The verb as typed, without the program name (`apply`, `apps add`)."""
    return ctx.command_path.partition(" ")[2] or ctx.command_path


def echo_json(data: Mapping[str, Any]) -> None:
    """Print the verb's one JSON document (`toolkit.core.envelope`) around `data`, stable and indented."""
    from toolkit.core.envelope import envelope

    ctx = click.get_current_context()
    ctx.meta["tke-catalog.printed"] = True
    click.echo(json.dumps(envelope(verb_of(ctx), data), indent=2, sort_keys=False, default=str))


def render_findings(findings: Iterable[Finding]) -> None:
    """Errors to stderr, warnings and notes to stdout, each as `file:line: severity: message (at $.path)`."""
    shown = list(findings)
    errors = [f for f in shown if f.severity is Severity.ERROR]
    others = [f for f in shown if f.severity is not Severity.ERROR]
    from toolkit.cli._style import painted_lines

    if others:
        click.echo(painted_lines(format_findings(others)))
    if errors:
        click.echo(painted_lines(format_findings(errors), err=True), err=True)

"""`tke-catalog apps add|remove|set|disable|enable CLUSTER.yaml NAME`: edit a Cluster's app list in place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from toolkit.cli._common import (
    InputPath,
    echo_json,
    output_option,
    render_findings,
    root_option,
    settings_from,
)
from toolkit.cli._registry import registry_options
from toolkit.errors import ValidationFailed

if TYPE_CHECKING:
    from toolkit.actions.apps import AppsChange, Validator
    from toolkit.actions.registry_access import RegistryAccess

F = TypeVar("F", bound=Callable[..., Any])

_CLUSTER = InputPath(dir_okay=False)
_VALUES_FILE = click.option("--values", "-f", "--values-file", "values_file", type=InputPath(dir_okay=False),
                            help="YAML file to store as the app's rawValues.")
_SET = click.option("--set", "set_values", multiple=True, metavar="KEY=VALUE",
                    help="A helm --set entry for values[] (repeatable; replaces an entry for the same key).")


def _common(func: F) -> F:
    """CLUSTER and NAME arguments, --dry-run, --root and --output for every sub-command."""
    for decorate in reversed([
        click.argument("cluster_file", metavar="CLUSTER.yaml", type=_CLUSTER),
        click.argument("name"),
        click.option("--dry-run", is_flag=True, help="Print the diff; write nothing."),
        root_option,
        registry_options,
        output_option("text", "json"),
    ]):
        func = decorate(func)
    return func


def _validator(root: Path | None, access: RegistryAccess) -> Validator:
    settings = settings_from(root)
    from toolkit.actions.apps import (
        cluster_validator,  # when a command runs, not for --help
    )

    return cluster_validator(settings.root, access.chart_source(settings.root, settings.cache))


def _render(change: AppsChange, output: str, dry_run: bool) -> None:
    """Show the outcome; findings of severity error end in exit 3 with nothing written."""
    if output == "json":
        echo_json(change.as_dict())
    else:
        render_findings(change.findings)
        if dry_run and change.diff:
            click.echo(change.diff, nl=False)
        elif not change.changed:
            click.echo(f"{change.path}: no change (app `{change.app}` is already that way)")
        elif change.written:
            click.echo(f"{change.path}: {change.verb} `{change.app}` done")
        if change.reformatted_lines:
            click.echo(f"warning: {change.reformatted_lines} line(s) outside app `{change.app}` were re-indented "
                       "because the file mixes indentation styles", err=True)
    if not change.ok:
        raise ValidationFailed(f"{change.path}: `apps {change.verb} {change.app}` would make the file invalid; "
                               "nothing was written", hint="fix the findings above and run it again")


@click.group("apps", epilog="Example: tke-catalog apps add cluster.yaml hello --repo oci://127.0.0.1:5000/custom --version 0.1.0 -n default")
def apps_group() -> None:
    """Edit a Cluster file's app list in place (comments and layout kept; validated before writing)."""


@apps_group.command("add", epilog="Example: tke-catalog apps add cluster.yaml hello --repo oci://127.0.0.1:5000/custom --version 0.1.0 -n default")
@_common
@click.option("--chart", help="Chart name (default: NAME).")
@click.option("--version", "version", metavar="RANGE", help="Chart version or range, e.g. 1.2.3 or ~1.2.")
@click.option("--repo", metavar="oci://...", help="Chart repository for a chart outside the catalog.")
@click.option("--namespace", "-n", help="Target namespace (default: NAME).")
@_VALUES_FILE
@_SET
@click.option("--depends-on", multiple=True, metavar="APP", help="An app this one waits for (repeatable).")
def add_command(cluster_file: Path, name: str, dry_run: bool, root: Path | None,
                   access: RegistryAccess, output: str, chart: str | None,
                version: str | None, repo: str | None, namespace: str | None, values_file: Path | None,
                set_values: tuple[str, ...], depends_on: tuple[str, ...]) -> None:
    """Append app NAME to CLUSTER.yaml's bootstrapApps."""
    from toolkit.core.cluster_edit import AppEntry

    entry = AppEntry(name=name, chart=chart, version=version, repo=repo, namespace=namespace,
                     set_values=set_values, depends_on=depends_on)
    from toolkit.actions.apps import add_app

    _render(add_app(cluster_file, entry, values_file=values_file, validate=_validator(root, access),
                            dry_run=dry_run), output, dry_run)


@apps_group.command("remove", epilog="Example: tke-catalog apps remove cluster.yaml hello")
@_common
def remove_command(cluster_file: Path, name: str, dry_run: bool, root: Path | None,
                   access: RegistryAccess, output: str) -> None:
    """Remove app NAME from CLUSTER.yaml's bootstrapApps."""
    from toolkit.actions.apps import remove_app

    _render(remove_app(cluster_file, name, validate=_validator(root, access),
                                 dry_run=dry_run), output, dry_run)


@apps_group.command("set", epilog="Example: tke-catalog apps set cluster.yaml coredns --set replicas=3")
@_common
@click.option("--version", "version", metavar="RANGE", help="New chart version or range.")
@_SET
@click.option("--unset", "unset_keys", multiple=True, metavar="KEY", help="Drop the values[] entry for KEY (repeatable).")
@_VALUES_FILE
def set_command(cluster_file: Path, name: str, dry_run: bool, root: Path | None,
                   access: RegistryAccess, output: str, version: str | None,
                set_values: tuple[str, ...], unset_keys: tuple[str, ...], values_file: Path | None) -> None:
    """Change app NAME's chart version, values[] entries or rawValues."""
    from toolkit.actions.apps import set_app

    _render(set_app(cluster_file, name, version=version, set_values=set_values, unset_keys=unset_keys,
                            values_file=values_file, validate=_validator(root, access),
                                 dry_run=dry_run), output, dry_run)


@apps_group.command("disable", epilog="Example: tke-catalog apps disable cluster.yaml metrics-server")
@_common
def disable_command(cluster_file: Path, name: str, dry_run: bool, root: Path | None,
                   access: RegistryAccess, output: str) -> None:
    """Trim the catalog's default app NAME (adds it to spec.features.disabledApps)."""
    from toolkit.actions.apps import disable_app

    _render(disable_app(cluster_file, name, validate=_validator(root, access),
                                 dry_run=dry_run), output, dry_run)


@apps_group.command("enable", epilog="Example: tke-catalog apps enable cluster.yaml metrics-server")
@_common
def enable_command(cluster_file: Path, name: str, dry_run: bool, root: Path | None,
                   access: RegistryAccess, output: str) -> None:
    """Bring back the default app NAME (removes it from spec.features.disabledApps)."""
    from toolkit.actions.apps import enable_app

    _render(enable_app(cluster_file, name, validate=_validator(root, access),
                                 dry_run=dry_run), output, dry_run)


COMMANDS = [apps_group]

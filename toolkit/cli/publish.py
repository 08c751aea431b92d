"""`tke-catalog publish`: push the charts to an OCI registry (idempotent; `--dry-run` checks versions)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from toolkit.actions.build import find_chart_dirs
from toolkit.actions.publish import (
    LOCK_FILE,
    ChartPublish,
    PublishAction,
    PublishFailed,
    package_charts,
    publish,
    write_lock,
)
from toolkit.cli._common import echo_json, output_option, root_option, settings_from
from toolkit.errors import UsageError
from toolkit.loader import read_bytes
from toolkit.oci import Credentials, OciReference, credentials_from_auth_config, parse_oci_reference
from toolkit.registry import RegistryClient, open_registry
from toolkit.settings import REGISTRY_PASSWORD_ENV, REGISTRY_USERNAME_ENV, load_registry_environment

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["COMMANDS", "connect", "registry_options"]


def registry_options(func: F) -> F:
    """The connection options `publish` and `pull` share."""
    options: list[Callable[[F], F]] = [
        click.option("--plain-http", is_flag=True, help="Talk plain HTTP (local test registries only)."),
        click.option("--insecure-skip-tls-verify", is_flag=True, help="Do not verify the registry's certificate."),
        click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="CA bundle that signed the registry's certificate."),
        click.option("--username", help=f"Registry user (else ${REGISTRY_USERNAME_ENV}, helm's or docker's login)."),
        click.option("--password-stdin", is_flag=True, help="Read the registry password from stdin."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _credentials(host: str, username: str | None, password_stdin: bool) -> Credentials | None:
    """--username/--password-stdin, else the environment, else helm's then docker's config.json."""
    env = load_registry_environment()
    if password_stdin:
        if not username:
            raise UsageError("--password-stdin needs --username", hint="pass --username USER")
        password = sys.stdin.read().rstrip("\r\n")
        return Credentials(username, password, "--password-stdin")
    if username:
        if env.password is None:
            raise UsageError("--username needs a password",
                             hint=f"pipe it to --password-stdin or set ${REGISTRY_PASSWORD_ENV}")
        return Credentials(username, env.password, f"--username and ${REGISTRY_PASSWORD_ENV}")
    if env.username and env.password is not None:
        return Credentials(env.username, env.password, f"${REGISTRY_USERNAME_ENV}/${REGISTRY_PASSWORD_ENV}")
    for path in env.auth_files:
        if path.is_file():
            found = credentials_from_auth_config(read_bytes(path), host, str(path))
            if found is not None:
                return found
    return None


def connect(registry: str, *, plain_http: bool, insecure_skip_tls_verify: bool, ca_file: Path | None,
            username: str | None, password_stdin: bool, jobs: int = 4) -> tuple[OciReference, RegistryClient]:
    """Parse `--registry` and open a client with the resolved credentials."""
    target = parse_oci_reference(registry)
    if plain_http and (ca_file or insecure_skip_tls_verify):
        raise UsageError("--plain-http cannot be combined with TLS options", hint="drop one of them")
    client = open_registry(target.host, credentials=_credentials(target.host, username, password_stdin),
                           plain_http=plain_http, ca_file=ca_file,
                           insecure_skip_tls_verify=insecure_skip_tls_verify, pool_size=max(jobs, 4))
    return target, client


def _line(chart: ChartPublish, dry_run: bool) -> str:
    action = chart.action.value
    if dry_run and chart.action is PublishAction.PUSHED:
        action = "would push"
    note = f"  ({chart.note})" if chart.note and chart.note != "would push" else ""
    return f"{chart.name:<24} {chart.version:<10} {action:<10} {chart.digest}{note}"


@click.command("publish")
@click.argument("charts", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--registry", required=True, metavar="oci://HOST[:PORT]/PATH", help="Where to push the charts.")
@click.option("--jobs", "-j", type=click.IntRange(1, 32), default=4, show_default=True, help="Charts pushed in parallel.")
@registry_options
@click.option("--force", is_flag=True, help="Overwrite versions already published with other content.")
@click.option("--dry-run", is_flag=True, help="Only report what would be pushed, skipped or conflicting.")
@click.option("--lock", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Lock file to update [default: ROOT/{LOCK_FILE}].")
@root_option
@output_option("text", "json")
def publish_command(charts: tuple[Path, ...], registry: str, jobs: int, plain_http: bool,
                    insecure_skip_tls_verify: bool, ca_file: Path | None, username: str | None,
                    password_stdin: bool, force: bool, dry_run: bool, lock: Path | None,
                    root: Path | None, output: str) -> None:
    """Push the charts (default: every chart under charts/) to an OCI registry, skipping unchanged ones.

    A version already published with other content fails (bump `version`), unless --force.
    `--dry-run` writes nothing: use it in CI to check that changed charts got a version bump.
    """
    settings = settings_from(root)
    target, client = connect(registry, plain_http=plain_http, insecure_skip_tls_verify=insecure_skip_tls_verify,
                             ca_file=ca_file, username=username, password_stdin=password_stdin, jobs=jobs)
    built = package_charts(list(charts) or find_chart_dirs(settings.charts_dir), epoch=settings.source_date_epoch)
    live = settings.is_terminal and output == "text"
    done: list[ChartPublish] = []

    def progress(chart: ChartPublish) -> None:
        done.append(chart)
        if live:
            click.echo(f"\r\033[K[{len(done)}/{len(built)}] {chart.name} {chart.action.value}", nl=False, err=True)
        elif output == "text":
            click.echo(_line(chart, dry_run))

    result = publish(built, registry=client, target=target, created_epoch=settings.source_date_epoch,
                     force=force, dry_run=dry_run, jobs=jobs, progress=progress)
    if live:
        click.echo("\r\033[K", nl=False, err=True)
        for chart in result.charts:
            click.echo(_line(chart, dry_run))
    if not dry_run:
        write_lock(lock or settings.root / LOCK_FILE, result)
    if output == "json":
        echo_json(result.as_dict())
    else:
        for chart in result.failed:
            click.echo(f"{chart.name}: {chart.error}", err=True)
    if result.failed:
        raise PublishFailed(f"{len(result.failed)} of {len(result.charts)} charts failed to publish",
                            hint="see the messages above")


COMMANDS = [publish_command]

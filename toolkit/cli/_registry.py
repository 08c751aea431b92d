"""The registry connection flags shared by publish, pull, plan, validate, apps and apply: a command
receives them as one `access: RegistryAccess` (the lookup itself lives in toolkit.actions.registry_access)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from toolkit.adapters.settings import REGISTRY_USERNAME_ENV
from toolkit.cli._common import InputPath

if TYPE_CHECKING:
    from toolkit.actions.registry_access import RegistryAccess

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["registry_options"]


@functools.cache
def _stdin_password() -> str:
    """The password piped to --password-stdin, read once however many registries are contacted."""
    return sys.stdin.read().rstrip("\r\n")


def registry_options(func: F) -> F:
    """Add the connection flags; the command receives them as one `access: RegistryAccess` argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from toolkit.actions.registry_access import (
            RegistryAccess,  # here, not at import: --help stays light
        )

        access: RegistryAccess = RegistryAccess(
            plain_http=kwargs.pop("plain_http"), insecure_skip_tls_verify=kwargs.pop("insecure_skip_tls_verify"),
            ca_file=kwargs.pop("ca_file"), username=kwargs.pop("username"),
            password_reader=_stdin_password if kwargs.pop("password_stdin") else None)
        return func(*args, access=access, **kwargs)

    options: list[Callable[[F], F]] = [
        click.option("--plain-http", is_flag=True, help="Talk plain HTTP to registries (local test registries only)."),
        click.option("--insecure-skip-tls-verify", is_flag=True, help="Do not verify registries' certificates."),
        click.option("--ca-file", type=InputPath(dir_okay=False),
                     help="CA bundle that signed the registry's certificate."),
        click.option("--username", help=f"Registry user (else ${REGISTRY_USERNAME_ENV}, helm's or docker's login)."),
        click.option("--password-stdin", is_flag=True, help="Read the registry password from stdin."),
    ]
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]

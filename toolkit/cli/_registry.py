"""Registry connection options shared by publish, pull, plan, validate, apps and apply.

The five connection flags arrive in a command as one `access: RegistryAccess`; credentials are looked up
in order: --username with --password-stdin, --username with the password variable, the username and
password variables, helm's registry config, docker's config.json. They are never printed.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from toolkit.settings import REGISTRY_PASSWORD_ENV, REGISTRY_USERNAME_ENV

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["RegistryAccess", "chart_source", "registry_options"]

_FLAGS = ("plain_http", "insecure_skip_tls_verify", "ca_file", "username", "password_stdin")


@dataclass(frozen=True)
class RegistryAccess:
    """How to reach registries: the connection flags of one command line."""

    plain_http: bool = False
    insecure_skip_tls_verify: bool = False
    ca_file: Path | None = None
    username: str | None = None
    password_stdin: bool = False

    def credentials(self, host: str) -> Any:
        """Credentials for `host` (or None): flags, then environment, then helm's and docker's config."""
        from toolkit.errors import UsageError
        from toolkit.loader import read_bytes
        from toolkit.oci import Credentials, credentials_from_auth_config
        from toolkit.settings import load_registry_environment

        env = load_registry_environment()
        if self.password_stdin:
            if not self.username:
                raise UsageError("--password-stdin needs --username", hint="pass --username USER")
            return Credentials(self.username, _stdin_password(), "--password-stdin")
        if self.username:
            if env.password is None:
                raise UsageError("--username needs a password",
                                 hint=f"pipe it to --password-stdin or set ${REGISTRY_PASSWORD_ENV}")
            return Credentials(self.username, env.password, f"--username and ${REGISTRY_PASSWORD_ENV}")
        if env.username and env.password is not None:
            return Credentials(env.username, env.password, f"${REGISTRY_USERNAME_ENV}/${REGISTRY_PASSWORD_ENV}")
        for path in env.auth_files:
            if path.is_file():
                found = credentials_from_auth_config(read_bytes(path), host, str(path))
                if found is not None:
                    return found
        return None

    def connect(self, registry: str, *, jobs: int = 4) -> tuple[Any, Any]:
        """Parse `oci://HOST/PATH` and open a client for it: (OciReference, RegistryClient)."""
        from toolkit.errors import UsageError
        from toolkit.oci import parse_oci_reference
        from toolkit.registry import open_registry

        target = parse_oci_reference(registry)
        if self.plain_http and (self.ca_file or self.insecure_skip_tls_verify):
            raise UsageError("--plain-http cannot be combined with TLS options", hint="drop one of them")
        client = open_registry(target.host, credentials=self.credentials(target.host), plain_http=self.plain_http,
                               ca_file=self.ca_file, insecure_skip_tls_verify=self.insecure_skip_tls_verify,
                               pool_size=max(jobs, 4))
        return target, client


@functools.cache
def _stdin_password() -> str:
    """The password piped to --password-stdin, read once however many registries are contacted."""
    return sys.stdin.read().rstrip("\r\n")


def registry_options(func: F) -> F:
    """Add the connection flags; the command receives them as one `access: RegistryAccess` argument."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        access = RegistryAccess(**{name: kwargs.pop(name) for name in _FLAGS})
        return func(*args, access=access, **kwargs)

    options: list[Callable[[F], F]] = [
        click.option("--plain-http", is_flag=True, help="Talk plain HTTP to registries (local test registries only)."),
        click.option("--insecure-skip-tls-verify", is_flag=True, help="Do not verify registries' certificates."),
        click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="CA bundle that signed the registry's certificate."),
        click.option("--username", help=f"Registry user (else ${REGISTRY_USERNAME_ENV}, helm's or docker's login)."),
        click.option("--password-stdin", is_flag=True, help="Read the registry password from stdin."),
    ]
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


def chart_source(root: Path, cache: Path, access: RegistryAccess, *, registry: str | None = None,
                 lock_file: Path | None = None) -> Any:
    """Where plan, validate, apps and apply get charts: registries (custom `oci://` apps; with
    `registry`, the catalog's charts by the digests in the lock file), then the catalog's folders."""
    from toolkit.registry_source import chart_source_for

    return chart_source_for(root, cache, lambda where: access.connect(str(where))[1], registry=registry,
                            lock_file=lock_file)

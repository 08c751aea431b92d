"""How this run reaches registries: connection settings, the credential lookup, and the chart source
that plan, validate, apps and apply share. Shell: reads credential files through the loader and the
environment through settings; the password from --password-stdin arrives as a callable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.adapters.chart_dirs import ChainedChartSource
from toolkit.adapters.settings import REGISTRY_PASSWORD_ENV, REGISTRY_USERNAME_ENV
from toolkit.core.credentials import Credentials
from toolkit.core.oci_reference import OciReference
from toolkit.errors import UsageError

if TYPE_CHECKING:  # the registry client (urllib3) is imported only when a registry is contacted
    from toolkit.adapters.registry.client import RegistryClient

__all__ = ["RegistryAccess"]


@dataclass(frozen=True)
class RegistryAccess:
    """Connection settings of one command line. `password_reader` returns the piped password."""

    plain_http: bool = False
    insecure_skip_tls_verify: bool = False
    ca_file: Path | None = None
    username: str | None = None
    password_reader: Callable[[], str] | None = field(default=None, repr=False)

    def credentials(self, host: str) -> Credentials | None:
        """--username with a piped password, --username with the password variable, the username and
        password variables, helm's registry config, docker's config.json (in each file, the credential
        helper its `credHelpers` or `credsStore` names, else its `auths`); else None. Never printed."""
        from toolkit.adapters.credential_helpers import ask_credential_helper
        from toolkit.adapters.files import read_bytes
        from toolkit.adapters.settings import load_registry_environment
        from toolkit.core.credentials import CredentialHelper, auth_config_lookup

        env = load_registry_environment()
        if self.password_reader is not None:
            if not self.username:
                raise UsageError("--password-stdin needs --username", hint="pass --username USER")
            return Credentials(self.username, self.password_reader(), "--password-stdin")
        if self.username:
            if env.password is None:
                raise UsageError("--username needs a password",
                                 hint=f"pipe it to --password-stdin or set ${REGISTRY_PASSWORD_ENV}")
            return Credentials(self.username, env.password, f"--username and ${REGISTRY_PASSWORD_ENV}")
        if env.username and env.password is not None:
            return Credentials(env.username, env.password, f"${REGISTRY_USERNAME_ENV}/${REGISTRY_PASSWORD_ENV}")
        for path in env.auth_files:
            if path.is_file():
                found = auth_config_lookup(read_bytes(path), host, str(path))
                if isinstance(found, CredentialHelper):
                    found = ask_credential_helper(found, search_path=env.helper_path)
                if found is not None:
                    return found
        return None

    def connect(self, registry: str, *, jobs: int = 4) -> tuple[OciReference, RegistryClient]:
        """Parse `oci://HOST/PATH` and open a client for it."""
        from toolkit.adapters.registry.client import open_registry
        from toolkit.adapters.settings import load_user_config
        from toolkit.core.oci_reference import parse_oci_reference

        target = parse_oci_reference(registry)
        if self.plain_http and (self.ca_file or self.insecure_skip_tls_verify):
            raise UsageError("--plain-http cannot be combined with TLS options", hint="drop one of them")
        # flags win; the configuration file's settings for the host fill in what no flag says
        saved = load_user_config().registry(target.host)
        flagged = self.plain_http or self.ca_file is not None or self.insecure_skip_tls_verify
        plain_http = self.plain_http or (saved.plain_http and not flagged)
        ca_file = self.ca_file or (None if plain_http else saved.ca_file)
        insecure = self.insecure_skip_tls_verify or (saved.insecure_skip_tls_verify and not plain_http)
        client = open_registry(target.host, credentials=self.credentials(target.host), plain_http=plain_http,
                               ca_file=ca_file, insecure_skip_tls_verify=insecure, pool_size=max(jobs, 4))
        return target, client

    def chart_source(self, root: Path, cache: Path, *, registry: str | None = None,
                     lock_file: Path | None = None) -> ChainedChartSource:
        """Registries first (custom `oci://` apps; with `registry`, the catalog's charts by the digests in
        the lock file), then the catalog's folders."""
        from toolkit.actions.registry_source import chart_source_for

        return chart_source_for(root, cache, lambda where: self.connect(str(where))[1], registry=registry,
                                lock_file=lock_file)

"""The user's configuration file (`~/.config/tke-catalog/config.yaml`), pure: per-registry connection
settings, so `--plain-http` or `--ca-file` need not be repeated on every verb.

    registries:
      127.0.0.1:5000:            # host[:port], as in oci://HOST/PATH
        plainHTTP: true
      registry.example.com:
        caFile: /etc/ssl/private-ca.pem
        insecureSkipTLSVerify: false
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.core.schema import did_you_mean
from toolkit.core.yamldoc import fast_load_plain, parse_yaml, to_plain
from toolkit.errors import InputError

__all__ = ["RegistrySettings", "UserConfig", "parse_user_config"]

_REGISTRY_KEYS = ("plainHTTP", "caFile", "insecureSkipTLSVerify")


@dataclass(frozen=True)
class RegistrySettings:
    """How to reach one registry host."""

    plain_http: bool = False
    ca_file: Path | None = None
    insecure_skip_tls_verify: bool = False


@dataclass(frozen=True)
class UserConfig:
    registries: Mapping[str, RegistrySettings] = field(default_factory=dict)

    def registry(self, host: str) -> RegistrySettings:
        """The settings for `host` (host[:port]); the defaults when the file names none."""
        return self.registries.get(host, RegistrySettings())


def _bool(value: Any, where: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{source}: {where} must be true or false, not {value!r}", hint="write true or false")
    return value


def _registry(host: str, entry: Any, source: str, base: Path) -> RegistrySettings:
    if not isinstance(entry, Mapping):
        raise InputError(f"{source}: registries.{host} must be a mapping of settings",
                         hint=f"write e.g. registries: {{{host}: {{plainHTTP: true}}}}")
    for key in entry:
        if key not in _REGISTRY_KEYS:
            guess = did_you_mean(str(key), _REGISTRY_KEYS)
            raise InputError(f"{source}: registries.{host}.{key} is not a setting",
                             hint=f"did you mean {guess}?" if guess else f"use {', '.join(_REGISTRY_KEYS)}")
    ca = entry.get("caFile")
    if ca is not None and not isinstance(ca, str):
        raise InputError(f"{source}: registries.{host}.caFile must be a path", hint="write the CA bundle's path")
    settings = RegistrySettings(
        plain_http=_bool(entry.get("plainHTTP", False), f"registries.{host}.plainHTTP", source),
        ca_file=(base / Path(ca).expanduser()) if ca else None,
        insecure_skip_tls_verify=_bool(entry.get("insecureSkipTLSVerify", False),
                                       f"registries.{host}.insecureSkipTLSVerify", source))
    if settings.plain_http and (settings.ca_file or settings.insecure_skip_tls_verify):
        raise InputError(f"{source}: registries.{host}: plainHTTP cannot go with TLS settings", hint="drop one")
    return settings


def parse_user_config(text: str, source: str) -> UserConfig:
    """Read the file's text; InputError naming the file and the setting on anything it cannot use. A
    relative caFile is relative to the file's folder."""
    data = (fast_load_plain(text) or to_plain(parse_yaml(text, source))) if text.strip() else {}
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise InputError(f"{source}: the configuration must be a mapping", hint="start with `registries:`")
    unknown = [k for k in data if k != "registries"]
    if unknown:
        raise InputError(f"{source}: {unknown[0]} is not a setting", hint="the file holds `registries:` only")
    registries = data.get("registries") or {}
    if not isinstance(registries, Mapping):
        raise InputError(f"{source}: registries must map host[:port] to settings", hint="see the README")
    base = Path(source).parent
    return UserConfig({str(host): _registry(str(host), entry, source, base) for host, entry in registries.items()})

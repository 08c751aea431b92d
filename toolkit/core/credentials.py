"""Registry credentials: a user name and password that never show in a repr, and the lookup of a host's
entry in a docker/helm `config.json` (the bytes are read by the caller).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from toolkit.errors import InputError

__all__ = ["Credentials", "credentials_from_auth_config"]


@dataclass(frozen=True)
class Credentials:
    """A registry user name and password; `repr` and `str` never show the password."""

    username: str
    password: str = field(repr=False)
    source: str = "command line"

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***', source={self.source!r})"

    __str__ = __repr__


def _host_of(key: str) -> str:
    """The host of a docker config `auths` key (`https://host/v1/` or just `host`)."""
    key = key.split("://", 1)[-1]
    return key.split("/", 1)[0]


def credentials_from_auth_config(data: bytes, host: str, source: str) -> Credentials | None:
    """Credentials for `host` from a docker/helm `config.json` (`auths[host].auth` = base64 user:pass,
    or `username`/`password`); None when the file has none for the host. Credential helpers are not run."""
    try:
        config = json.loads(data or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: not valid JSON", hint="fix or remove the file") from exc
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return None
    entry = auths.get(host)
    if entry is None:
        entry = next((v for k, v in auths.items() if _host_of(k) == host), None)
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str) and entry["username"]:
        return Credentials(entry["username"], entry["password"], source)
    auth = entry.get("auth")
    if not isinstance(auth, str) or not auth:
        return None
    try:
        decoded = base64.b64decode(auth, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: auths[{host!r}].auth is not base64 of user:password",
                         hint=f"log in again (helm registry login {host})") from exc
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise InputError(f"{source}: auths[{host!r}].auth is not base64 of user:password",
                         hint=f"log in again (helm registry login {host})")
    return Credentials(username, password, source)

"""Registry credentials: a user name and password that never show in a repr, and the lookup of a host's
entry in a docker/helm `config.json` (the bytes are read by the caller): which credential helper to
ask (`credHelpers`, then `credsStore`), else the `auths` entry; and how to read a helper's answer
(docker-credential-helpers' protocol). Running the helper is the shell's job
(`toolkit.adapters.credential_helpers`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import InputError, OperationalError

__all__ = [
    "CredentialHelper",
    "Credentials",
    "auth_config_lookup",
    "credential_helper_for",
    "credentials_from_auth_config",
    "credentials_from_helper",
    "helper_found_nothing",
]


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


def _config(data: bytes, source: str) -> Any:
    try:
        return json.loads(data or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: not valid JSON", hint="fix or remove the file") from exc


def credentials_from_auth_config(data: bytes, host: str, source: str) -> Credentials | None:
    """Credentials for `host` from a docker/helm `config.json` (`auths[host].auth` = base64 user:pass,
    or `username`/`password`); None when the file has none for the host. Credential helpers are not
    consulted (`auth_config_lookup` does both, in docker's order)."""
    config = _config(data, source)
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


# --- docker credential helpers (github.com/docker/docker-credential-helpers) --------------------------

_DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_DOCKER_HUB_SERVER = "https://index.docker.io/v1/"  # the key docker (and oras-go) use for Docker Hub
_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_NOT_FOUND = "credentials not found in native keychain"  # the protocol's one "nothing stored" answer
_TOKEN_USERNAME = "<token>"  # noqa: S105 - the protocol's marker for an identity token, not a secret


@dataclass(frozen=True)
class CredentialHelper:
    """Which docker credential helper to ask, for which server, and the config entry that chose it."""

    name: str  # `desktop` means the program `docker-credential-desktop`
    server: str  # what goes to the helper's stdin
    config: str  # the config file
    key: str  # "credHelpers" or "credsStore"
    entry: str  # the config entry that names the helper, as the user would look for it in the file

    @property
    def program(self) -> str:
        return f"docker-credential-{self.name}"

    @property
    def source(self) -> str:
        """Where credentials it returns came from, as errors name it."""
        return f"{self.config} ({self.key}: {self.program})"


def _server_for(host: str) -> str:
    return _DOCKER_HUB_SERVER if host in _DOCKER_HUB_HOSTS else host


def credential_helper_for(data: bytes, host: str, source: str) -> CredentialHelper | None:
    """The helper docker would ask for `host`: `credHelpers[host]` wins over `credsStore`; None when
    the config names neither, or names "" for the host (then its `auths` entry, if any, holds them)."""
    config = _config(data, source)
    if not isinstance(config, dict):
        return None
    server = _server_for(host)
    helpers = config.get("credHelpers")
    helpers = helpers if isinstance(helpers, dict) else {}
    found = next((k for k in (server, host) if k in helpers), None)
    if found is None:
        found = next((k for k in helpers if _host_of(k) == host), None)
    if found is not None:
        if helpers[found] == "":  # docker's way to keep one host in `auths` despite a credsStore
            return None
        key, name, entry = "credHelpers", helpers[found], f"credHelpers[{found!r}]"
    elif config.get("credsStore"):
        key, name, entry = "credsStore", config["credsStore"], "credsStore"
    else:
        return None
    if not isinstance(name, str) or not _HELPER_NAME.fullmatch(name):
        raise InputError(f"{source}: {entry} is {name!r}, which is not a credential helper's name",
                         hint="name the part after docker-credential-, e.g. \"desktop\" or \"pass\"")
    return CredentialHelper(name, server, source, key, entry)


def auth_config_lookup(data: bytes, host: str, source: str) -> Credentials | CredentialHelper | None:
    """What a docker/helm `config.json` holds for `host`, in docker's order: the credential helper to
    ask (`credHelpers`, then `credsStore`; the `auths` entry is then not used), else the `auths` entry;
    None when there is nothing for the host."""
    helper = credential_helper_for(data, host, source)
    if helper is not None:
        return helper
    return credentials_from_auth_config(data, host, source)


def helper_found_nothing(message: str) -> bool:
    """True when a failed helper's output is the protocol's "no credentials stored for this server"."""
    return message.strip() == _NOT_FOUND


def credentials_from_helper(output: bytes, helper: CredentialHelper) -> Credentials | None:
    """The credentials in a helper's answer to `get` (`{"ServerURL", "Username", "Secret"}`); None when
    it holds no secret. An identity token (`Username` "<token>") is refused: tke-catalog speaks only
    user name and password. The answer is never quoted in an error: it holds the secret."""
    try:
        answer = json.loads(output)
    except (ValueError, UnicodeDecodeError):
        answer = None
    if not isinstance(answer, dict) or not all(isinstance(answer.get(k, ""), str) for k in ("Username", "Secret")):
        raise OperationalError(
            f"{helper.program} get answered something other than credentials JSON for {helper.server}",
            hint=f"check the helper (it should print {{\"ServerURL\", \"Username\", \"Secret\"}}), "
                 f"or remove {helper.entry} from {helper.config}")
    username, secret = answer.get("Username", ""), answer.get("Secret", "")
    if not secret:
        return None
    if username == _TOKEN_USERNAME:
        raise OperationalError(
            f"{helper.program} holds an identity token for {helper.server} (Username \"<token>\"), "
            "which tke-catalog does not support: it authenticates with a user name and password",
            hint=f"log in with a password (`docker login {helper.server} -u USER`), or pass --username "
                 "with --password-stdin")
    return Credentials(username, secret, helper.source)

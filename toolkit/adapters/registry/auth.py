"""Registry authentication as the client needs it: reading a `WWW-Authenticate` challenge, the Basic
header, the bearer token request and its answer, and the AuthenticationError that says which
credentials were refused and where they came from (never the password).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Mapping

from toolkit.core.credentials import Credentials
from toolkit.errors import AuthenticationError, RegistryError

__all__ = ["authentication_error", "basic_authorization", "parse_challenge", "token_from_answer", "token_url"]

_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """The lower-cased scheme of a `WWW-Authenticate` header and its `key="value"` parameters."""
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE_PARAM.findall(rest))


def basic_authorization(credentials: Credentials) -> str:
    """The `Authorization` header value for HTTP Basic auth."""
    raw = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def token_url(params: Mapping[str, str], what: str) -> str:
    """Where to ask for a bearer token for the challenged `service` and `scope`."""
    scope = params.get("scope", "")
    realm = params.get("realm")
    if not realm:
        raise RegistryError(f"{what}: bearer challenge without a realm", status=401,
                            hint="the registry's token auth is misconfigured")
    query = {k: v for k, v in (("service", params.get("service", "")), ("scope", scope)) if v}
    return realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query) if query else realm


def token_from_answer(body: bytes, what: str) -> str:
    """The token in a token service's JSON answer (`token`, or OAuth2's `access_token`)."""
    try:
        data = json.loads(body)
        return str(data.get("token") or data.get("access_token"))
    except (ValueError, AttributeError) as exc:
        raise RegistryError(f"{what}: the token service answered no token", hint="check the registry") from exc


def authentication_error(host: str, credentials: Credentials | None, what: str, status: int) -> AuthenticationError:
    """The error for a 401 or 403: no credentials found, or these ones refused (and where they came from)."""
    if credentials is None:
        return AuthenticationError(
            f"{what}: {host} requires credentials and none were found", status=status,
            hint="pass --username with --password-stdin, set TKE_CATALOG_REGISTRY_USERNAME/PASSWORD, "
                 f"or run `helm registry login {host}`")
    verb = "refused" if status == 401 else "does not allow this for"
    return AuthenticationError(
        f"{what}: {host} {verb} user {credentials.username!r} "
        f"(credentials from {credentials.source})", status=status,
        hint="check the user name and password" if status == 401
        else "ask the registry admin for push/pull rights on this repository")

"""The registry side of the shell: the OCI distribution API calls publish and pull need.

Why not oras-py's `Registry` here: its retry decorator sleeps up to two minutes on any exception yet
never retries 429/502/503, its default token backend loops ~131 s against Basic-only registries, and
it caches pull-only bearer tokens for pushes. So the client speaks the few endpoints itself, with:

* the auth scheme detected once from `GET /v2/`'s `WWW-Authenticate` (Basic, or Bearer with one token
  per challenged scope; the pieces are in `auth`);
* one retry policy (`retry`): connection errors, 429 and 5xx are retried with bounded exponential
  backoff, the sleep function injected; 401/403 fail at once, 404 is a clear error;
* TLS verified by default (`ca_file`, `insecure_skip_tls_verify` only on request), plain HTTP only
  with `plain_http=True`;
* a `Transport` protocol under it (`transport`), so tests can count requests or inject faults.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from toolkit.adapters.registry.auth import (
    authentication_error,
    basic_authorization,
    parse_challenge,
    token_from_answer,
    token_url,
)
from toolkit.adapters.registry.retry import RetryPolicy, is_retryable, send_with_retry
from toolkit.adapters.registry.transport import (
    HttpResponse,
    Transport,
    Urllib3Transport,
)
from toolkit.core.credentials import Credentials
from toolkit.core.oci_artifact import MANIFEST_MEDIA_TYPE
from toolkit.errors import AuthenticationError, RegistryError

__all__ = ["MAX_MANIFEST_BYTES", "ChartRegistry", "RegistryClient", "open_registry"]

_MANIFEST_ACCEPT = ", ".join([
    MANIFEST_MEDIA_TYPE,
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


class ChartRegistry(Protocol):
    """What `publish` and `pull` need from a registry (a recording fake implements it in the tests)."""

    def ping(self) -> None: ...
    def manifest_digest(self, repository: str, reference: str) -> str | None: ...
    def has_blob(self, repository: str, digest: str) -> bool: ...
    def upload_blob(self, repository: str, digest: str, data: bytes) -> None: ...
    def put_manifest(self, repository: str, reference: str, manifest: bytes,
                     media_type: str = ...) -> str: ...
    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]: ...
    def get_blob(self, repository: str, digest: str, *, max_bytes: int) -> bytes: ...
    def list_tags(self, repository: str) -> list[str]: ...


class RegistryClient:
    """The distribution API for one registry host; thread-safe, so publish can run charts in parallel."""

    def __init__(self, host: str, *, transport: Transport, credentials: Credentials | None = None,
                 plain_http: bool = False, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.host = host
        self.base = f"{'http' if plain_http else 'https'}://{host}"
        self._transport = transport
        self._credentials = credentials
        self._plain_http = plain_http
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._scheme: str | None = None  # "none", "basic" or "bearer", learnt from GET /v2/
        self._tokens: dict[str, str] = {}  # bearer tokens by scope

    def __repr__(self) -> str:
        return f"RegistryClient({self.base!r}, credentials={self._credentials!r})"

    # -- plumbing --

    def _send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
              what: str) -> HttpResponse:
        """One request with the retry policy; raises RegistryError when retries are used up."""
        return send_with_retry(self._transport, method, url, headers, body, what=what, host=self.host,
                               plain_http=self._plain_http, policy=self._retry, sleep=self._sleep)

    def _url(self, path: str) -> str:
        return f"{self.base}{path}"

    def ping(self) -> None:
        """`GET /v2/`: learn the auth scheme, and check the credentials (so a wrong password fails fast)."""
        with self._lock:
            if self._scheme is not None:
                return
        response = self._send("GET", self._url("/v2/"), {}, None, "GET /v2/")
        scheme = "none"
        if response.status == 401:
            challenge, params = parse_challenge(response.headers.get("www-authenticate", ""))
            if challenge == "basic":
                scheme = "basic"
                if self._credentials is None:
                    raise self._auth_error("GET /v2/", 401)
                checked = self._send("GET", self._url("/v2/"), {"Authorization": basic_authorization(self._credentials)},
                                     None, "GET /v2/")
                if checked.status in (401, 403):
                    raise self._auth_error("GET /v2/", checked.status)
                self._check(checked, "GET /v2/")
            elif challenge == "bearer":
                scheme = "bearer"
                if self._credentials is not None:  # fetch a token for no scope: checks the password
                    self._token(params, "GET /v2/")
            else:
                raise RegistryError(f"GET /v2/: {self.host} asks for unsupported auth "
                                    f"{challenge or '(none given)'!r}", status=401,
                                    hint="tke-catalog supports Basic and Bearer token auth")
        elif response.status != 200:
            self._check(response, "GET /v2/")
            raise RegistryError(f"GET /v2/: {self.host} answered {response.status}; is it an OCI registry?",
                                status=response.status, hint="check the --registry host and port")
        with self._lock:
            self._scheme = scheme

    def _auth_error(self, what: str, status: int) -> AuthenticationError:
        return authentication_error(self.host, self._credentials, what, status)

    def _token(self, params: Mapping[str, str], what: str) -> str:
        """A bearer token for the challenged scope (cached per scope)."""
        scope = params.get("scope", "")
        with self._lock:
            if scope in self._tokens:
                return self._tokens[scope]
        url = token_url(params, what)
        headers = {"Authorization": basic_authorization(self._credentials)} if self._credentials else {}
        response = self._send("GET", url, headers, None, f"{what} (token)")
        if response.status in (401, 403):
            raise self._auth_error(f"{what} (token)", response.status)
        self._check(response, f"{what} (token)")
        token = token_from_answer(response.body, what)
        with self._lock:
            self._tokens[scope] = token
        return token

    def _call(self, method: str, path_or_url: str, what: str, *, headers: Mapping[str, str] | None = None,
              body: bytes | None = None, scope: str = "") -> HttpResponse:
        """A request with auth: Basic sent up front, Bearer tokens fetched per challenged scope."""
        self.ping()
        url = path_or_url if "://" in path_or_url else self._url(path_or_url)
        sent = dict(headers or {})
        if urllib.parse.urlsplit(url).netloc != urllib.parse.urlsplit(self.base).netloc:
            return self._send(method, url, sent, body, what)  # another host (an upload location): no credentials
        if self._scheme == "basic" and self._credentials:
            sent["Authorization"] = basic_authorization(self._credentials)
        elif self._scheme == "bearer":
            with self._lock:
                token = self._tokens.get(scope)
            if token:
                sent["Authorization"] = f"Bearer {token}"
        response = self._send(method, url, sent, body, what)
        if response.status == 401 and self._scheme == "bearer":
            challenge, params = parse_challenge(response.headers.get("www-authenticate", ""))
            if challenge == "bearer":
                with self._lock:
                    self._tokens.pop(params.get("scope", ""), None)
                token = self._token(params, what)
                with self._lock:
                    self._tokens[scope] = token
                sent["Authorization"] = f"Bearer {token}"
                response = self._send(method, url, sent, body, what)
        if response.status in (401, 403):
            raise self._auth_error(what, response.status)
        return response

    def _check(self, response: HttpResponse, what: str, *, ok: tuple[int, ...] = (200,)) -> None:
        if response.status in ok:
            return
        detail = ""
        try:
            errors = json.loads(response.body).get("errors") or []
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict))
        except (ValueError, AttributeError):
            detail = response.body[:200].decode("utf-8", "replace").strip()
        message = f"{what}: {self.host} answered {response.status}" + (f" ({detail})" if detail else "")
        if response.status == 404:
            raise RegistryError(message, status=404, hint="check the registry path, chart name and version")
        hint = ("the registry kept failing; try again later" if is_retryable(response.status)
                else "see the registry's message above")
        raise RegistryError(message, status=response.status, hint=hint)

    @staticmethod
    def _scope(repository: str, push: bool = False) -> str:
        return f"repository:{repository}:{'pull,push' if push else 'pull'}"

    # -- the API --

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """The digest the tag (or digest) points at, or None when it does not exist."""
        what = f"HEAD {repository}:{reference}"
        response = self._call("HEAD", f"/v2/{repository}/manifests/{reference}", what,
                              headers={"Accept": _MANIFEST_ACCEPT}, scope=self._scope(repository))
        if response.status == 404:
            return None
        self._check(response, what)
        digest = response.headers.get("docker-content-digest")
        if digest:
            return digest
        return self.get_manifest(repository, reference)[1]

    def has_blob(self, repository: str, digest: str) -> bool:
        """Whether the repository already holds the blob."""
        what = f"HEAD {repository}@{digest}"
        response = self._call("HEAD", f"/v2/{repository}/blobs/{digest}", what, scope=self._scope(repository))
        if response.status == 404:
            return False
        self._check(response, what)
        return True

    def upload_blob(self, repository: str, digest: str, data: bytes) -> None:
        """Monolithic upload: `POST .../blobs/uploads/` then `PUT <location>?digest=`."""
        what = f"upload {repository}@{digest}"
        scope = self._scope(repository, push=True)
        started = self._call("POST", f"/v2/{repository}/blobs/uploads/", what, scope=scope,
                             headers={"Content-Length": "0"}, body=b"")
        self._check(started, what, ok=(202,))
        location = started.headers.get("location")
        if not location:
            raise RegistryError(f"{what}: {self.host} gave no upload location", hint="is it an OCI registry?")
        url = urllib.parse.urljoin(self._url(f"/v2/{repository}/blobs/uploads/"), location)
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"digest": digest})
        done = self._call("PUT", url, what, scope=scope, body=data,
                          headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
        self._check(done, what, ok=(201, 204))

    def put_manifest(self, repository: str, reference: str, manifest: bytes,
                     media_type: str = MANIFEST_MEDIA_TYPE) -> str:
        """Tag the manifest (its blobs must be uploaded first); returns its digest as the registry saw it."""
        what = f"PUT {repository}:{reference}"
        response = self._call("PUT", f"/v2/{repository}/manifests/{reference}", what,
                              scope=self._scope(repository, push=True), body=manifest,
                              headers={"Content-Type": media_type})
        self._check(response, what, ok=(200, 201, 204))
        ours = "sha256:" + hashlib.sha256(manifest).hexdigest()
        theirs = response.headers.get("docker-content-digest", ours)
        if theirs != ours:
            raise RegistryError(f"{what}: the registry stored digest {theirs}, expected {ours}",
                                hint="the registry rewrote the manifest; use an OCI-compliant registry")
        return ours

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        """The manifest's bytes and their digest, verified when `reference` is a digest."""
        what = f"GET {repository}:{reference}" if not reference.startswith("sha256:") else f"GET {repository}@{reference}"
        response = self._call("GET", f"/v2/{repository}/manifests/{reference}", what,
                              headers={"Accept": _MANIFEST_ACCEPT}, scope=self._scope(repository))
        self._check(response, what)
        if len(response.body) > MAX_MANIFEST_BYTES:
            raise RegistryError(f"{what}: the manifest is larger than {MAX_MANIFEST_BYTES} bytes",
                                hint="is this a helm chart?")
        digest = "sha256:" + hashlib.sha256(response.body).hexdigest()
        if reference.startswith("sha256:") and digest != reference:
            raise RegistryError(f"{what}: the manifest's digest is {digest}", hint="the registry is corrupt or lying")
        return response.body, digest

    def get_blob(self, repository: str, digest: str, *, max_bytes: int) -> bytes:
        """A blob's bytes, verified against its digest; redirects (to storage back ends) are followed."""
        what = f"GET {repository}@{digest}"
        url = f"/v2/{repository}/blobs/{digest}"
        response = self._call("GET", url, what, scope=self._scope(repository))
        for _ in range(5):
            if response.status not in (301, 302, 303, 307, 308) or "location" not in response.headers:
                break
            target = urllib.parse.urljoin(self._url(url), response.headers["location"])
            response = self._send("GET", target, {}, None, what)  # no credentials to storage back ends
        self._check(response, what)
        if len(response.body) > max_bytes:
            raise RegistryError(f"{what}: blob is larger than {max_bytes} bytes", hint="is this a helm chart?")
        actual = "sha256:" + hashlib.sha256(response.body).hexdigest()
        if actual != digest:
            raise RegistryError(f"{what}: content has digest {actual}", hint="the registry is corrupt; re-publish")
        return response.body

    def list_tags(self, repository: str) -> list[str]:
        """Every tag of the repository (following `Link` pagination); [] when the repository is unknown."""
        tags: list[str] = []
        url: str | None = f"/v2/{repository}/tags/list"
        what = f"GET {repository} tags"
        while url:
            response = self._call("GET", url, what, scope=self._scope(repository))
            if response.status == 404:
                return tags
            self._check(response, what)
            tags.extend(json.loads(response.body).get("tags") or [])
            match = re.search(r"<([^>]+)>;\s*rel=\"?next\"?", response.headers.get("link", ""))
            url = match.group(1) if match else None
        return tags


def open_registry(host: str, *, credentials: Credentials | None = None, plain_http: bool = False,
                  ca_file: Path | None = None, insecure_skip_tls_verify: bool = False, pool_size: int = 8,
                  retry: RetryPolicy | None = None, sleep: Callable[[float], None] = time.sleep) -> RegistryClient:
    """A RegistryClient over the real transport."""
    transport = Urllib3Transport(ca_file=ca_file, insecure_skip_tls_verify=insecure_skip_tls_verify,
                                 pool_size=pool_size)
    return RegistryClient(host, transport=transport, credentials=credentials, plain_http=plain_http,
                          retry=retry, sleep=sleep)

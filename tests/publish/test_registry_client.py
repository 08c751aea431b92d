"""The registry adapter's retry policy and auth handling, with a scripted fake transport (fault injection)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from toolkit.adapters.registry.client import RegistryClient
from toolkit.adapters.registry.retry import RetryPolicy
from toolkit.adapters.registry.transport import HttpResponse, TransportFailure
from toolkit.core.credentials import Credentials
from toolkit.errors import AuthenticationError, RegistryError

DIGEST = "sha256:" + "b" * 64


@dataclass
class ScriptedTransport:
    """Answers each request with the next scripted response for its (method, path) and records it."""

    script: dict[tuple[str, str], list[HttpResponse | TransportFailure]]
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def request(self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None) -> HttpResponse:
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        self.calls.append((method, path, dict(headers)))
        answers = self.script[(method, path.split("?")[0])]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, TransportFailure):
            raise answer
        return answer


OK_V2 = HttpResponse(200, {})
HEAD_OK = HttpResponse(200, {"docker-content-digest": DIGEST})


def _client(script: dict[tuple[str, str], list[HttpResponse | TransportFailure]], *,
            credentials: Credentials | None = None) -> tuple[RegistryClient, ScriptedTransport, list[float]]:
    transport = ScriptedTransport(script)
    sleeps: list[float] = []
    client = RegistryClient("reg.test:5000", transport=transport, credentials=credentials,
                            retry=RetryPolicy(attempts=4, base_delay=0.5, max_delay=4.0), sleep=sleeps.append)
    return client, transport, sleeps


def test_503_twice_then_200_succeeds_after_two_retries_with_backoff() -> None:
    client, transport, sleeps = _client({
        ("GET", "/v2/"): [OK_V2],
        ("HEAD", "/v2/c/a/manifests/1.0.0"): [HttpResponse(503, {}), HttpResponse(503, {}), HEAD_OK],
    })
    assert client.manifest_digest("c/a", "1.0.0") == DIGEST
    assert sleeps == [0.5, 1.0]
    assert len([c for c in transport.calls if c[0] == "HEAD"]) == 3


def test_429_honours_retry_after_and_backoff() -> None:
    client, _, sleeps = _client({
        ("GET", "/v2/"): [OK_V2],
        ("HEAD", "/v2/c/a/blobs/" + DIGEST): [HttpResponse(429, {"retry-after": "3"}), HttpResponse(429, {}),
                                              HttpResponse(200, {})],
    })
    assert client.has_blob("c/a", DIGEST) is True
    assert sleeps == [3.0, 1.0]


def test_persistent_5xx_gives_up_after_the_bounded_count() -> None:
    client, transport, sleeps = _client({("GET", "/v2/"): [OK_V2],
                                         ("HEAD", "/v2/c/a/manifests/1"): [HttpResponse(502, {})]})
    with pytest.raises(RegistryError) as caught:
        client.manifest_digest("c/a", "1")
    assert caught.value.status == 502
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(transport.calls) == 1 + 4


def test_connection_errors_are_retried_then_reported_with_a_hint() -> None:
    client, _, sleeps = _client({("GET", "/v2/"): [TransportFailure("connection refused")]})
    with pytest.raises(RegistryError, match="unreachable after 4 attempts") as caught:
        client.ping()
    assert "--plain-http" in str(caught.value.hint)
    assert sleeps == [0.5, 1.0, 2.0]


def test_untrusted_certificate_fails_at_once_naming_ca_file() -> None:
    client, transport, sleeps = _client({("GET", "/v2/"): [
        TransportFailure("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", tls=True)]})
    with pytest.raises(RegistryError) as caught:
        client.ping()
    assert "--ca-file" in str(caught.value) and sleeps == [] and len(transport.calls) == 1


def test_401_is_not_retried_and_never_shows_the_password() -> None:
    challenge = HttpResponse(401, {"www-authenticate": 'Basic realm="test"'})
    client, transport, sleeps = _client({("GET", "/v2/"): [challenge]},
                                        credentials=Credentials("ann", "hunter2-secret", "test"))
    with pytest.raises(AuthenticationError) as caught:
        client.ping()
    assert sleeps == [] and len(transport.calls) == 2  # the challenge, then one try with the credentials
    assert caught.value.status == 401
    assert "ann" in str(caught.value) and "hunter2-secret" not in str(caught.value)
    assert "hunter2-secret" not in repr(client)
    expected = "Basic " + base64.b64encode(b"ann:hunter2-secret").decode()
    assert transport.calls[1][2]["Authorization"] == expected


def test_no_credentials_for_a_basic_registry_says_how_to_log_in() -> None:
    client, _, _ = _client({("GET", "/v2/"): [HttpResponse(401, {"www-authenticate": 'Basic realm="x"'})]})
    with pytest.raises(AuthenticationError, match="requires credentials") as caught:
        client.ping()
    assert "--password-stdin" in str(caught.value.hint)


def test_404_is_a_clear_error_and_a_missing_tag_is_none() -> None:
    client, _, _ = _client({
        ("GET", "/v2/"): [OK_V2],
        ("HEAD", "/v2/c/a/manifests/9.9.9"): [HttpResponse(404, {})],
        ("GET", "/v2/c/a/manifests/9.9.9"): [HttpResponse(404, {}, json.dumps(
            {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode())],
    })
    assert client.manifest_digest("c/a", "9.9.9") is None
    with pytest.raises(RegistryError, match="MANIFEST_UNKNOWN") as caught:
        client.get_manifest("c/a", "9.9.9")
    assert caught.value.status == 404 and caught.value.hint


def test_bearer_tokens_are_fetched_per_challenged_scope() -> None:
    def challenge(scope: str) -> HttpResponse:
        return HttpResponse(401, {"www-authenticate":
                                  f'Bearer realm="https://auth.test/token",service="reg",scope="{scope}"'})

    def token(value: str) -> HttpResponse:
        return HttpResponse(200, {}, json.dumps({"token": value}).encode())

    client, transport, _ = _client({
        ("GET", "/v2/"): [HttpResponse(401, {"www-authenticate": 'Bearer realm="https://auth.test/token",service="reg"'})],
        ("GET", "/token"): [token("t-none"), token("t-pull"), token("t-push")],
        ("HEAD", "/v2/c/a/manifests/1"): [challenge("repository:c/a:pull"), HEAD_OK, HEAD_OK],
        ("PUT", "/v2/c/a/manifests/1"): [challenge("repository:c/a:pull,push"),
                                         HttpResponse(201, {"docker-content-digest":
                                                            "sha256:" + hashlib.sha256(b"{}").hexdigest()})],
    }, credentials=Credentials("ann", "pw", "test"))
    assert client.manifest_digest("c/a", "1") == DIGEST
    assert client.manifest_digest("c/a", "1") == DIGEST  # cached pull token: no new token request
    client.put_manifest("c/a", "1", b"{}")
    token_calls = [c for c in transport.calls if c[1].startswith("/token")]
    assert [c[1] for c in token_calls] == [
        "/token?service=reg", "/token?service=reg&scope=repository%3Ac%2Fa%3Apull",
        "/token?service=reg&scope=repository%3Ac%2Fa%3Apull%2Cpush"]
    put = [c for c in transport.calls if c[0] == "PUT"][-1]
    assert put[2]["Authorization"] == "Bearer t-push"

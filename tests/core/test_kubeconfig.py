"""Kubeconfig parsing: contexts, inline and file credentials, clear errors, no secrets in repr."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from toolkit.errors import UsageError
from toolkit.core.kubeconfig import parse_kubeconfig


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


CONFIG = {
    "current-context": "one",
    "contexts": [{"name": "one", "context": {"cluster": "c1", "user": "u1"}},
                 {"name": "two", "context": {"cluster": "c2", "user": "u2"}}],
    "clusters": [{"name": "c1", "cluster": {"server": "https://127.0.0.1:6443/", "certificate-authority-data": b64(b"CA")}},
                 {"name": "c2", "cluster": {"server": "https://10.0.0.1", "certificate-authority": "ca.pem"}}],
    "users": [{"name": "u1", "user": {"client-certificate-data": b64(b"CERT"), "client-key-data": b64(b"KEY")}},
              {"name": "u2", "user": {"token": "very-secret-token"}}],
}


def reader(files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    return lambda path: files[str(path)]


def test_current_context_with_inline_data() -> None:
    ep = parse_kubeconfig(CONFIG, "kc", context=None, base=Path("/k"), read=reader({}))
    assert (ep.server, ep.context, ep.ca_data, ep.client_cert_data, ep.client_key_data) == (
        "https://127.0.0.1:6443", "one", b"CA", b"CERT", b"KEY")


def test_named_context_reads_relative_files_and_hides_the_token() -> None:
    ep = parse_kubeconfig(CONFIG, "kc", context="two", base=Path("/k"), read=reader({"/k/ca.pem": b"CA2"}))
    assert ep.ca_data == b"CA2" and ep.token == "very-secret-token"
    assert "very-secret-token" not in repr(ep)


@pytest.mark.parametrize(("config", "context", "fragment"), [
    (CONFIG, "three", "no context named 'three'"),
    ({**CONFIG, "current-context": None}, None, "no current-context"),
    ("not a mapping", None, "not a kubeconfig"),
])
def test_errors_say_what_to_fix(config: object, context: str | None, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_kubeconfig(config, "kc", context=context, base=Path("/k"), read=reader({}))
    assert fragment in str(info.value) and info.value.hint

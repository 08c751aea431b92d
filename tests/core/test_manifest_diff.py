"""The manifest diff: changed objects only, stable order, secrets never in clear."""

from __future__ import annotations

from toolkit.core.manifest_diff import manifest_diff


def cm(name: str, value: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"}, "data": {"k": value}}


def test_only_changed_added_and_removed_objects_show() -> None:
    text = manifest_diff([cm("a", "1"), cm("b", "1"), cm("gone", "x")], [cm("a", "1"), cm("b", "2"), cm("new", "y")],
                         "ns/rel")
    assert "ConfigMap ns/a" not in text
    assert "--- ns/rel ConfigMap ns/b (installed)" in text and "-  k: '1'" in text and "+  k: '2'" in text
    assert "+++ ns/rel ConfigMap ns/new (planned)" in text and "ConfigMap ns/gone (installed)" in text
    assert manifest_diff([cm("a", "1")], [cm("a", "1")], "x") == ""


def test_secret_values_show_as_digests_that_still_differ() -> None:
    old = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "aGVsbG8="}}
    new = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "d29ybGQ="}}
    text = manifest_diff([old], [new], "r")
    assert "aGVsbG8=" not in text and "d29ybGQ=" not in text
    assert text.count("<redacted sha256:") == 2

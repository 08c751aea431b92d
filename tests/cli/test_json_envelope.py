"""Under `--output json` every verb prints exactly one document on stdout, with a `formatVersion`, the
verb, `ok`, a summary with the same keys everywhere and the findings; on a failure too, with the error
and the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_exit_codes import EXAMPLE, FIXTURES, kubeconfig, tke
from toolkit.core.envelope import FORMAT_VERSION, SUMMARY_KEYS


def document(stdout: str) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(stdout)  # one document, nothing else: json.loads refuses trailing text
    assert parsed["formatVersion"] == FORMAT_VERSION
    summary = parsed["summary"]
    assert isinstance(summary, dict) and set(SUMMARY_KEYS) <= set(summary)
    return parsed


def test_success_documents_share_the_envelope(tmp_path: Path) -> None:
    plan = document(tke("plan", EXAMPLE, "-o", "json").stdout)
    assert plan["verb"] == "plan" and plan["ok"] is True
    assert plan["summary"]["install"] == len(plan["releases"]) > 0  # type: ignore[index,arg-type]
    build = document(tke("build", "charts/platform/coredns", "--out", str(tmp_path), "-o", "json").stdout)
    assert build["verb"] == "build" and build["charts"][0]["name"] == "coredns"  # type: ignore[index]
    validate = document(tke("validate", EXAMPLE, "-o", "json").stdout)
    assert validate["verb"] == "validate" and validate["ok"] is True


@pytest.mark.parametrize(("args", "code"), [
    (["plan", str(FIXTURES / "misspelled-field.yaml"), "-o", "json"], 3),
    (["validate", str(FIXTURES / "misspelled-field.yaml"), "-o", "json"], 3),
])
def test_a_failure_under_json_is_one_document_with_the_error(args: list[str], code: int) -> None:
    result = tke(*args)
    assert result.returncode == code, result.stderr
    failed = document(result.stdout)
    assert failed["ok"] is False and failed["findings"]
    if args[0] == "plan":  # the verb did not print: the error handler's document carries the error
        assert failed["error"]["exitCode"] == code and "cannot plan" in failed["error"]["message"]  # type: ignore[index]


def test_an_unreachable_cluster_under_json_still_prints_the_document(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path, "https://127.0.0.1:1")
    result = tke("apply", EXAMPLE, "--kubeconfig", str(config), "--yes", "-o", "json")
    assert result.returncode == 1
    failed = document(result.stdout)
    assert failed["verb"] == "apply" and failed["ok"] is False
    assert failed["error"]["exitCode"] == 1 and "cannot reach the API server" in failed["error"]["message"]  # type: ignore[index]

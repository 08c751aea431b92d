"""Faults against the real registry: a killed registry mid-publish, wrong credentials, untrusted TLS."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.publish.conftest import EPOCH, build, client_for, make_charts
from tests.support.registry import RegistryServer
from toolkit.actions.publish import ChartPublish, PublishAction, publish
from toolkit.adapters.registry.client import RegistryClient
from toolkit.core.oci_artifact import parse_chart_manifest
from toolkit.core.oci_reference import parse_oci_reference

pytestmark = [pytest.mark.registry]

Factory = Callable[[str], RegistryServer]


def _restart(server: RegistryServer) -> None:
    server.process.stop()  # the process is dead already; this closes its log file before restart() reopens it
    server.restart()


def _assert_every_tag_is_complete(client: RegistryClient, repository: str) -> list[str]:
    """No tag may point at a manifest whose blobs are missing."""
    tags = client.list_tags(repository)
    for tag in tags:
        manifest = parse_chart_manifest(client.get_manifest(repository, tag)[0], f"{repository}:{tag}")
        assert client.has_blob(repository, manifest.config.digest)
        assert client.has_blob(repository, manifest.chart.digest)
    return tags


def test_registry_killed_after_the_first_chart_then_a_clean_rerun(fresh_registry: Factory, tmp_path: Path) -> None:
    server = fresh_registry("plain")
    charts = build(make_charts(tmp_path))
    target = parse_oci_reference(server.oci("killed"))
    client, _ = client_for(server)

    def kill_after_first(outcome: ChartPublish) -> None:
        if outcome.name == "alpha":
            server.process.kill_hard()

    first = publish(charts, registry=client, target=target, created_epoch=EPOCH, jobs=1, progress=kill_after_first)
    assert [c.action for c in first.charts] == [PublishAction.PUSHED, PublishAction.FAILED, PublishAction.FAILED]
    assert "unreachable" in str(first.charts[1].error)

    _restart(server)
    client, _ = client_for(server)
    second = publish(charts, registry=client, target=target, created_epoch=EPOCH, jobs=3)
    assert [c.action for c in second.charts] == [PublishAction.SKIPPED, PublishAction.PUSHED, PublishAction.PUSHED]
    for chart in charts:
        assert _assert_every_tag_is_complete(client, f"killed/{chart.name}") == ["0.1.0"]


def test_kill_between_blob_upload_and_manifest_leaves_no_tag(fresh_registry: Factory, tmp_path: Path) -> None:
    """The manifest goes last: dying after a blob upload leaves an untagged blob, never a broken tag."""
    server = fresh_registry("plain")
    charts = build(make_charts(tmp_path, ("alpha",)))
    target = parse_oci_reference(server.oci("halfway"))
    client, _ = client_for(server)
    original = client.upload_blob

    def upload_then_die(repository: str, digest: str, data: bytes) -> None:
        original(repository, digest, data)
        server.process.kill_hard()

    client.upload_blob = upload_then_die  # type: ignore[method-assign]
    (outcome,) = publish(charts, registry=client, target=target, created_epoch=EPOCH).charts
    assert outcome.action is PublishAction.FAILED

    _restart(server)
    client, counter = client_for(server, counting=True)
    assert counter is not None
    assert client.manifest_digest("halfway/alpha", "0.1.0") is None
    (again,) = publish(charts, registry=client, target=target, created_epoch=EPOCH).charts
    assert again.action is PublishAction.PUSHED and again.uploaded_blobs == 1  # the first blob survived
    assert _assert_every_tag_is_complete(client, "halfway/alpha") == ["0.1.0"]


def test_wrong_password_fails_fast_without_leaking_it(fresh_registry: Factory, tmp_path: Path) -> None:
    import time

    from click.testing import CliRunner

    from toolkit.cli import cli

    server = fresh_registry("basic")
    make_charts(tmp_path, ("alpha",))
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["publish", "--root", str(tmp_path), "--registry", server.oci("denied"),
                                      "--plain-http", "--username", "ci-user", "--password-stdin"],
                                input="Wr0ng-Passw0rd-xyz\n",
                                env={"HELM_REGISTRY_CONFIG": str(tmp_path / "none.json"),
                                     "DOCKER_CONFIG": str(tmp_path / "none")})
    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert "refused user 'ci-user'" in result.output and "Wr0ng-Passw0rd-xyz" not in result.output
    assert not (server.storage / "docker/registry/v2/repositories/denied").exists()
    assert not (tmp_path / "catalog.lock").exists()


def test_untrusted_certificate_needs_ca_file_or_an_explicit_skip(fresh_registry: Factory, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from toolkit.cli import cli

    server = fresh_registry("tls")
    make_charts(tmp_path, ("alpha",))
    base = ["publish", "--root", str(tmp_path), "--registry", server.oci("tls"), "-o", "json"]
    env = {"HELM_REGISTRY_CONFIG": str(tmp_path / "none.json"), "DOCKER_CONFIG": str(tmp_path / "none"),
           "SSL_CERT_FILE": None}
    refused = CliRunner().invoke(cli, base, env=env)
    assert refused.exit_code == 1
    assert "--ca-file" in refused.output and "certificate" in refused.output

    skipped = CliRunner().invoke(cli, [*base, "--insecure-skip-tls-verify"], env=env)
    assert skipped.exit_code == 0, skipped.output
    assert json.loads(skipped.output)["charts"][0]["action"] == "pushed"

    trusted = CliRunner().invoke(cli, [*base, "--ca-file", str(server.ca_file)], env=env)
    assert trusted.exit_code == 0, trusted.output
    assert json.loads(trusted.output)["charts"][0]["action"] == "skipped"

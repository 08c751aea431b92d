"""`tke-catalog publish` and `pull` in-process through click's CliRunner, against the real registry."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.publish.conftest import (
    EPOCH,
    Helm,
    chart_files,
    cli_env,
    cli_registry_args,
    make_charts,
    write_chart,
)
from tests.support.registry import RegistryServer
from toolkit.adapters.settings import load_settings
from toolkit.cli import cli
from toolkit.errors import EXIT_CONFLICT, EXIT_USAGE

pytestmark = [pytest.mark.registry]


def _publish(server: RegistryServer, root: Path, path: str, *extra: str, env: dict[str, str | None] | None = None,
             stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["publish", "--root", str(root), "--registry", server.oci(path),
                                      *cli_registry_args(server), *extra],
                                env=env if env is not None else cli_env(server, root), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_publish_text_then_json_and_the_lock_file(registry: RegistryServer, tmp_path: Path) -> None:
    make_charts(tmp_path, ("alpha", "beta"))
    code, out, err = _publish(registry, tmp_path, "cli", "--jobs", "2")
    assert code == 0, err
    *rows, summary = out.splitlines()
    assert [line.split()[:3] for line in rows] == [["alpha", "0.1.0", "pushed"], ["beta", "0.1.0", "pushed"]]
    assert summary == "2 pushed"
    lock = json.loads((tmp_path / "catalog.lock").read_text())
    assert lock["registry"] == registry.oci("cli") and [c["name"] for c in lock["charts"]] == ["alpha", "beta"]
    assert all(c["digest"] in out for c in lock["charts"])

    code, out, err = _publish(registry, tmp_path, "cli", "-o", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["registry"] == registry.oci("cli")
    assert [(c["name"], c["version"], c["action"]) for c in data["charts"]] == [
        ("alpha", "0.1.0", "skipped"), ("beta", "0.1.0", "skipped")]
    assert [c["digest"] for c in data["charts"]] == [c["digest"] for c in lock["charts"]]


def test_conflict_exits_4_and_dry_run_is_the_version_bump_check(registry: RegistryServer, tmp_path: Path) -> None:
    (folder,) = make_charts(tmp_path, ("gamma",))
    assert _publish(registry, tmp_path, "cli-conflict")[0] == 0
    lock_before = (tmp_path / "catalog.lock").read_text()
    write_chart(folder, chart_files("gamma", greeting="changed"))

    code, out, err = _publish(registry, tmp_path, "cli-conflict", "--dry-run", "-o", "json")
    assert code == EXIT_CONFLICT  # "bump the version", told apart from a registry outage (1)
    (chart,) = json.loads(out)["charts"]
    assert chart["action"] == "failed" and "bump `version`" in chart["error"]
    assert "1 of 1 charts would overwrite a published version" in err

    code, out, err = _publish(registry, tmp_path, "cli-conflict")
    assert code == EXIT_CONFLICT and "failed" in out and "--force" in err
    assert (tmp_path / "catalog.lock").read_text() == lock_before

    write_chart(folder, chart_files("gamma", version="0.2.0", greeting="changed"))
    code, out, err = _publish(registry, tmp_path, "cli-conflict", "--dry-run")
    assert code == 0 and "would push" in out
    assert (tmp_path / "catalog.lock").read_text() == lock_before  # a dry run writes nothing


def test_pull_by_version_and_digest(registry: RegistryServer, tmp_path: Path, cli_with_pull: object) -> None:
    make_charts(tmp_path, ("delta",))
    assert _publish(registry, tmp_path, "cli-pull")[0] == 0
    digest = json.loads((tmp_path / "catalog.lock").read_text())["charts"][0]["digest"]
    runner = CliRunner()
    env = cli_env(registry, tmp_path)
    result = runner.invoke(cli_with_pull, ["pull", "delta@0.1.0", "--registry", registry.oci("cli-pull"),  # type: ignore[arg-type]
                                           *cli_registry_args(registry), "--out", str(tmp_path / "a")], env=env)
    assert result.exit_code == 0, result.output
    assert digest in result.stdout
    assert (tmp_path / "a" / "delta" / "values.yaml").read_text() == "greeting: hello\n"
    result = runner.invoke(cli_with_pull, ["pull", f"delta@{digest}", "--registry", registry.oci("cli-pull"),  # type: ignore[arg-type]
                                           *cli_registry_args(registry), "--out", str(tmp_path / "b"), "-o", "json"],
                           env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == "0.1.0"
    missing = runner.invoke(cli_with_pull, ["pull", "delta@9.9.9", "--registry", registry.oci("cli-pull"),  # type: ignore[arg-type]
                                            *cli_registry_args(registry), "--out", str(tmp_path / "c")], env=env)
    assert missing.exit_code == 1 and "404" in missing.output


@pytest.mark.helm
def test_credentials_from_helms_registry_login(fresh_registry, tmp_path: Path, helm: Helm) -> None:  # type: ignore[no-untyped-def]
    server = fresh_registry("basic")
    helm.login(server)
    make_charts(tmp_path, ("epsilon",))
    env = {"HELM_REGISTRY_CONFIG": helm.env()["HELM_REGISTRY_CONFIG"], "DOCKER_CONFIG": str(tmp_path / "none"),
           "TKE_CATALOG_REGISTRY_USERNAME": None, "TKE_CATALOG_REGISTRY_PASSWORD": None}
    code, out, err = _publish(server, tmp_path, "from-helm-login", env=env)
    assert code == 0, err
    assert "pushed" in out


def test_credentials_from_docker_config(fresh_registry, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = fresh_registry("basic")
    docker = tmp_path / "docker"
    docker.mkdir()
    auth = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    (docker / "config.json").write_text(json.dumps({"auths": {server.host: {"auth": auth}}}))
    make_charts(tmp_path, ("zeta",))
    env = {"HELM_REGISTRY_CONFIG": str(tmp_path / "none.json"), "DOCKER_CONFIG": str(docker),
           "TKE_CATALOG_REGISTRY_USERNAME": None, "TKE_CATALOG_REGISTRY_PASSWORD": None}
    code, out, err = _publish(server, tmp_path, "from-docker", env=env)
    assert code == 0, err
    env["DOCKER_CONFIG"] = str(tmp_path / "none")
    code, out, err = _publish(server, tmp_path, "from-docker", env=env)
    assert code == 1 and "requires credentials" in err and "helm registry login" in err


@pytest.mark.parametrize("args, message", [
    (["--registry", "https://example.com/charts"], "must start with oci://"),
    (["--registry", "oci://127.0.0.1:1/x", "--password-stdin"], "--password-stdin needs --username"),
    (["--registry", "oci://127.0.0.1:1/x", "--plain-http", "--insecure-skip-tls-verify"], "cannot be combined"),
])
def test_usage_errors_exit_64(tmp_path: Path, args: list[str], message: str) -> None:
    make_charts(tmp_path, ("eta",))
    result = CliRunner().invoke(cli, ["publish", "--root", str(tmp_path), *args],
                                env={"TKE_CATALOG_REGISTRY_USERNAME": None, "TKE_CATALOG_REGISTRY_PASSWORD": None})
    assert result.exit_code == EXIT_USAGE and message in result.output


def test_live_progress_only_on_a_terminal(registry: RegistryServer, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.cli.publish as publish_cli

    make_charts(tmp_path, ("theta", "iota"))
    monkeypatch.setattr(publish_cli, "settings_from",
                        lambda root: replace(load_settings(root=root), is_terminal=True, source_date_epoch=EPOCH))
    code, out, err = _publish(registry, tmp_path, "tty")
    assert code == 0
    assert "[2/2]" in err and "\r" in err
    assert [line.split()[0] for line in out.splitlines()] == ["iota", "theta", "2"]  # the table by name, the summary

"""The configuration file's per-registry settings reach a real registry without any connection flag:
plain HTTP for the local one, the CA bundle for the TLS one; a flag on the line still wins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.publish.conftest import cli_env, make_charts
from tests.support.registry import RegistryServer
from toolkit.cli import cli

pytestmark = pytest.mark.registry


def test_publish_and_pull_take_the_registrys_settings_from_the_config_file(
        registry: RegistryServer, tmp_path: Path) -> None:
    make_charts(tmp_path, ("from-config",))
    config = tmp_path / "config.yaml"
    setting = "plainHTTP: true" if registry.plain_http else f"caFile: {registry.ca_file}"
    config.write_text(f"registries:\n  {registry.host}:\n    {setting}\n")
    env = {k: v for k, v in cli_env(registry, tmp_path).items() if v is not None}
    env["TKE_CATALOG_CONFIG"] = str(config)
    target = registry.oci(f"config-{registry.variant}")

    published = CliRunner().invoke(cli, ["publish", "--root", str(tmp_path), "--registry", target, "-o", "json"],
                                   env=env)
    assert published.exit_code == 0, published.output
    assert [c["action"] for c in json.loads(published.stdout)["charts"]] == ["pushed"]
    pulled = CliRunner().invoke(cli, ["pull", "from-config", "--registry", target, "--out", str(tmp_path / "got")],
                                env=env)
    assert pulled.exit_code == 0, pulled.output
    assert (tmp_path / "got" / "from-config" / "Chart.yaml").is_file()

    # without the file the same command cannot reach the registry the same way
    env["TKE_CATALOG_CONFIG"] = str(tmp_path / "empty.yaml")
    (tmp_path / "empty.yaml").write_text("")
    again = CliRunner().invoke(cli, ["pull", "from-config", "--registry", target, "--out", str(tmp_path / "x")],
                               env=env)
    assert again.exit_code == 1, again.output

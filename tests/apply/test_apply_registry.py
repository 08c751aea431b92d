"""apply --registry: catalog charts come from the registry by the digests in catalog.lock (never from
the local folder or a mutable tag), and a custom app's version range resolves against the registry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.apply.conftest import ApplyProject, outcomes
from toolkit.cli import cli

pytestmark = [pytest.mark.cluster, pytest.mark.helm, pytest.mark.registry]


def publish(*args: str) -> None:
    result = CliRunner().invoke(cli, ["publish", "--plain-http", "--output", "json", *args])
    assert result.exit_code == 0, result.output


def test_apply_installs_pinned_digests_and_custom_ranges_from_the_registry(
        project: ApplyProject, fresh_registry, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = fresh_registry("plain")
    publish("--registry", server.oci("charts"), "--root", str(project.root))
    assert (project.root / "catalog.lock").is_file()

    # a custom chart outside the catalog, published in three versions
    custom = tmp_path / "custom"
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        folder = custom / version / "extra"
        shutil.copytree(project.root / "charts" / "addons" / "addon-c", folder)
        (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: extra\nversion: {version}\n"
                                           "appVersion: '1'\ndescription: custom\n")
        publish("--registry", server.oci("custom"), "--root", str(project.root),
                "--lock", str(tmp_path / f"custom-{version}.lock"), str(folder))

    # the local folder drifts after publishing: --registry must install what was published
    template = project.root / "charts" / "addons" / "addon-a" / "templates" / "configmap.yaml"
    template.write_text(template.read_text().replace("data:\n", "data:\n  drifted: \"yes\"\n"))
    project.add_app("extra", f"            chartVersion: \"^1.0\"\n            repoURL: {server.oci('custom')}\n")

    result = project.apply("--registry", server.oci("charts"), "--plain-http")
    assert result.exit_code == 0, result.output
    assert outcomes(result)["extra"] == "installed"
    releases = project.releases()
    assert releases["extra"].chart == "extra-1.1.0", "helm's ^1.0 picks the highest 1.x"
    assert "drifted" not in project.config(project.addons, "addon-a")["data"]
    cached = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "cache" / "charts").glob("*.tgz"))
    assert "extra-1.1.0" in cached and "addon-a-1.0.0" in cached


def test_apply_refuses_a_registry_the_lock_does_not_pin(project: ApplyProject, fresh_registry) -> None:  # type: ignore[no-untyped-def]
    server = fresh_registry("plain")
    result = project.apply("--registry", server.oci("charts"), "--plain-http")
    assert result.exit_code == 3
    assert "no lock file" in result.stderr
    assert project.releases() == {}

"""An upstream chart in the catalog, the way platform teams wrap one (as RKE2 wraps Cilium): a catalog
chart whose Chart.yaml depends on the upstream chart in its registry by a version range, with the
platform's defaults in its values. `deps update` pins the exact version in Chart.lock and fetches it,
`publish` puts the wrapper (upstream archive inside) into the platform's registry and pins its digest
in catalog.lock, and `apply --registry` installs it into the real API server with the upstream
registry gone: installs never reach the upstream. The upstream's own schema still checks the values."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.apply.conftest import ApplyProject, outcomes
from toolkit.cli import cli
from toolkit.errors import EXIT_INPUT

pytestmark = [pytest.mark.cluster, pytest.mark.helm, pytest.mark.registry]

UPSTREAM_SCHEMA = {"type": "object", "properties": {"message": {"type": "string"}, "replicas": {"type": "integer"}}}


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--plain-http"])
    assert result.exit_code == 0, result.output
    return result.output


def _upstream_chart(folder: Path, version: str) -> Path:
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: webapp\nversion: {version}\nappVersion: '{version}'\n")
    (folder / "values.yaml").write_text("message: hello from upstream\nreplicas: 1\n")
    (folder / "values.schema.json").write_text(json.dumps(UPSTREAM_SCHEMA))
    (folder / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-config\n"
        "data:\n  message: {{ .Values.message | quote }}\n  version: {{ .Chart.Version | quote }}\n")
    return folder


def test_an_upstream_chart_is_pinned_mirrored_and_applied_from_the_platform_registry(
        project: ApplyProject, fresh_registry, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    upstream, platform = fresh_registry("plain"), fresh_registry("plain")
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        _run("publish", "--registry", upstream.oci("upstream"), "--root", str(project.root),
             "--lock", str(tmp_path / f"upstream-{version}.lock"),
             str(_upstream_chart(tmp_path / "upstream" / version / "webapp", version)))

    wrapper = project.root / "charts" / "addons" / "web"
    shutil.copytree(project.root / "charts" / "addons" / "addon-c", wrapper)
    shutil.rmtree(wrapper / "templates")
    (wrapper / "templates").mkdir()
    (wrapper / "Chart.yaml").write_text(
        "apiVersion: v2\nname: web\nversion: 0.1.0\ndescription: the platform's webapp\ndependencies:\n"
        f"  - {{name: webapp, version: ^1.0, repository: '{upstream.oci('upstream')}', alias: web}}\n")
    (wrapper / "values.yaml").write_text("web:\n  message: hello from the platform\n")
    (wrapper / "values.schema.json").unlink(missing_ok=True)
    catalog = project.root / "catalog" / "catalog.yaml"
    catalog.write_text(catalog.read_text() + f"  - {{name: web, chart: charts/addons/web, category: addon, tier: addon, "
                       f"namespace: {project.addons}}}\n")
    (project.root / "schemas" / "charts").mkdir(parents=True, exist_ok=True)

    pinned = _run("deps", "update", "--root", str(project.root))
    assert "webapp 1.1.0" in pinned  # ^1.0: the highest 1.x, not 2.0.0
    assert (wrapper / "charts" / "webapp-1.1.0.tgz").is_file() and (wrapper / "Chart.lock").is_file()
    _run("publish", "--registry", platform.oci("platform"), "--root", str(project.root))
    lock = json.loads((project.root / "catalog.lock").read_text())
    assert any(entry["name"] == "web" for entry in lock["charts"])

    upstream.stop()  # from here on the upstream is unreachable
    project.add_app("web")
    result = project.apply("--registry", platform.oci("platform"), "--plain-http")
    assert result.exit_code == 0, result.output
    assert outcomes(result)["web"] == "installed"
    config = project.env.control_plane.api_get(f"/api/v1/namespaces/{project.addons}/configmaps/web-config")
    assert config["data"] == {"message": "hello from the platform", "version": "1.1.0"}

    # the upstream's schema checks values given for it in the Cluster
    project.edit("            chartName: web\n",
                 "            chartName: web\n          values:\n            rawValues: |\n"
                 "              web: {replicas: many}\n")
    refused = project.apply("--registry", platform.oci("platform"), "--plain-http")
    assert refused.exit_code == EXIT_INPUT, refused.output
    assert "$.web.replicas" in refused.output and "subchart `web`" in refused.output

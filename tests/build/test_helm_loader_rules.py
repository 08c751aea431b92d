"""helm's loader rules at build time, with helm itself as the oracle: a chart helm refuses to package
(a dependency missing from charts/, a stray file there, a link to a device) is refused by `build` too,
naming the cause; symbolic links are read through as helm does (a symlinked crds/ is packaged), and the
archive renders exactly as helm's own package of the same folder does. Links out of the chart folder are
refused (helm follows them; we do not package what the folder does not hold)."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.registry_fixtures import require_helm
from toolkit.cli import cli
from toolkit.errors import EXIT_INPUT

pytestmark = [pytest.mark.helm]

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
"""


def _chart(folder: Path, name: str = "app", *, dependencies: str = "") -> Path:
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n{dependencies}")
    (folder / "values.yaml").write_text("greeting: hello\n")
    (folder / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Chart.Name }}}\ndata: {greeting: {{ .Values.greeting | quote }}}\n")
    return folder


def _helm(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"HELM_CACHE_HOME": str(home / "cache"), "HELM_CONFIG_HOME": str(home / "config"),
           "HELM_DATA_HOME": str(home / "data"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(require_helm()), *args], capture_output=True, text=True, env=env,  # noqa: S603
                          timeout=120, check=False)


def _build(chart: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["build", str(chart), "--out", str(out)])
    return result.exit_code, result.output


def _same_rendering(tmp_path: Path, chart: Path) -> None:
    """helm template --include-crds of our archive equals that of `helm package`'s archive."""
    code, output = _build(chart, tmp_path / "ours")
    assert code == 0, output
    packaged = _helm(tmp_path, "package", str(chart), "--destination", str(tmp_path / "helms"))
    assert packaged.returncode == 0, packaged.stderr
    [ours] = (tmp_path / "ours").glob("*.tgz")
    [helms] = (tmp_path / "helms").glob("*.tgz")
    rendered = [_helm(tmp_path, "template", "r", str(archive), "--include-crds") for archive in (ours, helms)]
    assert all(r.returncode == 0 for r in rendered), [r.stderr for r in rendered]
    assert rendered[0].stdout == rendered[1].stdout


def test_a_dependency_missing_from_charts_is_refused_as_helm_refuses_it(tmp_path: Path) -> None:
    chart = _chart(tmp_path / "app", dependencies="dependencies:\n  - {name: sub, version: 0.1.0, "
                                                  "repository: 'file://../sub'}\n")
    assert _helm(tmp_path, "package", str(chart), "--destination", str(tmp_path / "h")).returncode != 0
    code, output = _build(chart, tmp_path / "out")
    assert code == EXIT_INPUT, output
    assert "dependency `sub`" in output and "missing from charts/" in output and "helm dependency build" in output
    assert not list(tmp_path.glob("out/*.tgz"))


@pytest.mark.parametrize("form", ["folder", "archive"])
def test_a_vendored_dependency_packages_and_renders_as_helms(tmp_path: Path, form: str) -> None:
    sub = _chart(tmp_path / "sub", "sub")
    chart = _chart(tmp_path / "app", dependencies="dependencies:\n  - {name: sub, version: 0.1.0, "
                                                  "repository: 'file://../sub'}\n")
    (chart / "charts").mkdir()
    if form == "folder":
        _chart(chart / "charts" / "sub", "sub")
    else:
        assert _helm(tmp_path, "package", str(sub), "--destination", str(chart / "charts")).returncode == 0
    _same_rendering(tmp_path, chart)


def test_a_stray_file_in_charts_is_refused_as_helm_refuses_it(tmp_path: Path) -> None:
    chart = _chart(tmp_path / "app")
    (chart / "charts").mkdir()
    (chart / "charts" / "README.md").write_text("vendored charts go here\n")
    assert _helm(tmp_path, "package", str(chart), "--destination", str(tmp_path / "h")).returncode != 0
    code, output = _build(chart, tmp_path / "out")
    assert code == EXIT_INPUT, output
    assert "charts/README.md is neither a chart archive" in output


def test_a_symlinked_crds_folder_is_packaged(tmp_path: Path) -> None:
    chart = _chart(tmp_path / "app")
    (chart / "files" / "crds").mkdir(parents=True)
    (chart / "files" / "crds" / "widgets.yaml").write_text(CRD)
    (chart / "crds").symlink_to(chart / "files" / "crds", target_is_directory=True)
    (chart / "templates" / "note.txt").symlink_to(chart / "values.yaml")
    _same_rendering(tmp_path, chart)
    rendered = _helm(tmp_path, "template", "r", str(next((tmp_path / "ours").glob("*.tgz"))), "--include-crds")
    assert "widgets.example.com" in rendered.stdout


def test_a_link_to_a_device_is_refused_as_helm_refuses_it(tmp_path: Path) -> None:
    chart = _chart(tmp_path / "app")
    os.symlink("/dev/null", chart / "templates" / "null.yaml")
    assert _helm(tmp_path, "package", str(chart), "--destination", str(tmp_path / "h")).returncode != 0
    code, output = _build(chart, tmp_path / "out")
    assert code == EXIT_INPUT, output
    assert "null.yaml" in output


def test_a_link_out_of_the_chart_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "shared.yaml"
    outside.write_text("a: 1\n")
    chart = _chart(tmp_path / "app")
    (chart / "templates" / "shared.yaml").symlink_to(outside)
    code, output = _build(chart, tmp_path / "out")
    assert code == EXIT_INPUT, output
    assert "outside the chart folder" in output


def test_an_irregular_file_left_out_by_helmignore_packages_as_with_helm(tmp_path: Path) -> None:
    chart = _chart(tmp_path / "app")
    os.mkfifo(chart / "debug.pipe")
    os.symlink("/dev/null", chart / "templates" / "null.yaml")
    (chart / ".helmignore").write_text("*.pipe\ntemplates/null.yaml\n")
    _same_rendering(tmp_path, chart)


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers() if m.isfile()}


def test_a_byte_order_mark_is_dropped_as_helm_drops_it(tmp_path: Path) -> None:
    chart = _chart(tmp_path / "app")
    bom = b"\xef\xbb\xbf"
    (chart / "values.yaml").write_bytes(bom + b"greeting: hello\n")
    (chart / "templates" / "extra.yaml").write_bytes(bom + b"# {{ .Values.greeting }}\n")
    (chart / ".helmignore").write_bytes(bom + b"*.bak\n")  # the first rule still counts
    (chart / "old.bak").write_text("x")
    _same_rendering(tmp_path, chart)
    ours = _members(next((tmp_path / "ours").glob("*.tgz")))
    helms = _members(next((tmp_path / "helms").glob("*.tgz")))
    assert ours == helms
    assert ours["values.yaml"] == b"greeting: hello\n" and "old.bak" not in ours


@pytest.mark.parametrize(("values", "helm_takes_it"), [
    ("- a\n- b\n", False), ("just text\n", False), ("a: [\n", False), ("~\n", True), ("# nothing\n", True),
])
def test_a_values_file_is_packaged_exactly_when_helm_packages_it(tmp_path: Path, values: str,
                                                                 helm_takes_it: bool) -> None:
    chart = _chart(tmp_path / "app")
    (chart / "templates" / "cm.yaml").write_text("# no values used\n")
    (chart / "values.yaml").write_text(values)
    packaged = _helm(tmp_path, "package", str(chart), "--destination", str(tmp_path / "h"))
    assert (packaged.returncode == 0) is helm_takes_it, packaged.stderr
    code, output = _build(chart, tmp_path / "out")
    assert code == (0 if helm_takes_it else EXIT_INPUT), output


@pytest.mark.parametrize("chart_yaml", [
    "name: app\nversion: 1.2.3.4\n", "name: app\nversion: v1.2.3\n", "name: app\nversion: '1.2'\n",
    "name: app\nversion: 1.2.3-01\n", "name: app\nversion: 1.2.3-rc.1+build.5\n", "name: a/b\nversion: 0.1.0\n",
    "name: ..\nversion: 0.1.0\n", "name: app\nversion: 0.1.0\ntype: plugin\n", "name: app\nversion: 0.1.0\ntype: library\n",
    "name: app\nversion: 0.1.0\ndependencies:\n  - {name: sub, version: 0.1.0, alias: 'no spaces'}\n",
    "name: app\nversion: 0.1.0\ndependencies:\n  - {name: sub, version: 0.1.0}\n  - {name: sub, version: 0.1.0}\n",
])
def test_chart_metadata_is_packaged_exactly_when_helm_packages_it(tmp_path: Path, chart_yaml: str) -> None:
    chart = _chart(tmp_path / "app")
    (chart / "Chart.yaml").write_text("apiVersion: v2\n" + chart_yaml)
    if "dependencies" in chart_yaml:
        _chart(chart / "charts" / "sub", "sub")
    packaged = _helm(tmp_path, "package", str(chart), "--destination", str(tmp_path / "h"))
    code, output = _build(chart, tmp_path / "out")
    assert (code == 0) is (packaged.returncode == 0), (output, packaged.stderr)
    if code:
        assert code == EXIT_INPUT and "Traceback" not in output


@pytest.mark.parametrize("extra", ["charts/.gitkeep", "charts/_notes.txt", "charts/sub-0.1.0.tgz.prov"])
def test_files_helms_loader_skips_in_charts_are_packaged_as_with_helm(tmp_path: Path, extra: str) -> None:
    chart = _chart(tmp_path / "app")
    (chart / extra).parent.mkdir(parents=True, exist_ok=True)
    (chart / extra).write_text("not a chart\n")
    _same_rendering(tmp_path, chart)


def test_dependencies_in_requirements_yaml_are_checked_as_helm_checks_them(tmp_path: Path) -> None:
    chart = _chart(tmp_path / "app")
    (chart / "Chart.yaml").write_text("apiVersion: v1\nname: app\nversion: 0.1.0\n")
    (chart / "requirements.yaml").write_text("dependencies:\n  - {name: sub, version: 0.1.0, repository: 'file://../sub'}\n")
    assert _helm(tmp_path, "package", str(chart), "--destination", str(tmp_path / "h")).returncode != 0
    code, output = _build(chart, tmp_path / "out")
    assert code == EXIT_INPUT and "dependency `sub`" in output, output
    _chart(chart / "charts" / "sub", "sub")
    _same_rendering(tmp_path, chart)

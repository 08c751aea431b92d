"""`build`: archives are byte-identical across runs and checkouts, honour .helmignore, and helm takes them."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.actions.build import build
from toolkit.adapters.project import find_chart_dirs
from toolkit.cli import cli

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "tests" / "fixtures" / "lint" / "good" / "charts" / "addons" / "demo"


def digests(out: Path) -> dict[str, str]:
    index = json.loads((out / "index.json").read_text())
    return {c["name"]: c["digest"] for c in index["charts"]}


def test_catalog_builds_identically_twice(tmp_path: Path) -> None:
    folders = find_chart_dirs(ROOT / "charts")
    assert folders, "the catalog has charts"
    first = build(folders, out=tmp_path / "a", epoch=1_700_000_000)
    second = build(folders, out=tmp_path / "b", epoch=1_700_000_000)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    for chart in first.charts:
        assert chart.path is not None
        assert chart.path.read_bytes() == (tmp_path / "b" / chart.path.name).read_bytes()
    assert len(second.charts) == len(folders)


def test_second_checkout_with_other_mtimes_and_modes_gives_same_bytes(tmp_path: Path) -> None:
    copy = tmp_path / "checkout" / "charts"
    shutil.copytree(ROOT / "charts", copy)
    for number, path in enumerate(sorted(copy.rglob("*"))):
        if path.is_file():
            os.utime(path, (1_000_000 + number, 1_000_000 + number))
            path.chmod(0o600 if number % 2 else 0o755)
    build(find_chart_dirs(ROOT / "charts"), out=tmp_path / "a", epoch=42)
    build(find_chart_dirs(copy), out=tmp_path / "b", epoch=42)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")


def test_source_date_epoch_changes_mtime_only(tmp_path: Path) -> None:
    (one,) = build([DEMO], out=tmp_path / "a", epoch=100).charts
    (two,) = build([DEMO], out=tmp_path / "b", epoch=200).charts
    assert one.digest != two.digest
    assert one.package.content_digest == two.package.content_digest


def test_archive_layout_is_normalized_and_honours_helmignore(tmp_path: Path) -> None:
    chart = tmp_path / "demo"
    shutil.copytree(DEMO, chart)
    (chart / ".helmignore").write_text("# ignore\n*.bak\nsecrets/\n")
    (chart / "notes.bak").write_text("x")
    (chart / "secrets").mkdir()
    (chart / "secrets" / "key.pem").write_text("x")
    (chart / "templates" / ".hidden.yaml").write_text("x")
    (built,) = build([chart], out=tmp_path / "out", epoch=1234).charts
    raw = gzip.decompress(built.archive)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names[0] == "demo/Chart.yaml"
    assert names[1:] == sorted(names[1:])
    assert "demo/notes.bak" not in names and "demo/secrets/key.pem" not in names
    assert "demo/templates/.hidden.yaml" not in names
    assert "demo/ci/small-values.yaml" in names
    assert {(m.mtime, m.mode, m.uid, m.gid, m.uname, m.gname) for m in members} == {(1234, 0o644, 0, 0, "", "")}
    header = built.archive[:10]
    assert header[4:8] == b"\0\0\0\0", "gzip header carries no timestamp"
    assert not built.archive[3] & 0x08, "gzip header carries no file name"


def test_cli_json_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["build", str(DEMO), "--out", str(tmp_path), "--output", "json"])
    assert result.exit_code == 0, result.output
    (chart,) = json.loads(result.stdout)["charts"]
    assert set(chart) >= {"name", "version", "digest", "path"}
    assert chart["name"] == "demo" and chart["digest"].startswith("sha256:")
    assert Path(chart["path"]).is_file()


@pytest.mark.helm
def test_helm_reads_the_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.registry_fixtures import require_helm
    from toolkit.adapters.helm import Helm

    helm = require_helm()
    for home in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"):
        monkeypatch.setenv(home, str(tmp_path / home.lower()))
    (built,) = build([DEMO], out=tmp_path / "out", epoch=1).charts
    assert built.path is not None
    objects = Helm(str(helm)).template(built.path, "r1", "default", {"replicas": 3})
    assert objects == [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "r1-demo"},
                        "data": {"replicas": "3", "image": "example/demo:v1.0.0"}}]


@pytest.mark.helm
@pytest.mark.cluster
def test_helm_installs_the_archive(helm_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from toolkit.adapters.helm import Helm

    (built,) = build([DEMO], out=tmp_path / "out", epoch=1).charts
    assert built.path is not None
    helm = Helm(str(helm_env.helm), kubeconfig=helm_env.kubeconfig)
    helm.upgrade_install("built-demo", built.path, "build-test", {"replicas": 2}, wait=False, timeout="60s")
    config = helm_env.control_plane.api_get("/api/v1/namespaces/build-test/configmaps/built-demo-demo")
    assert config["data"] == {"replicas": "2", "image": "example/demo:v1.0.0"}
    assert [r.chart for r in helm.list_releases() if r.name == "built-demo"] == ["demo-1.0.0"]
    helm.uninstall("built-demo", "build-test", timeout="60s")

"""`tke-catalog plan DIR|FILE...`: many Clusters in one run, streamed, the same answer as one by one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.errors import EXIT_INPUT, EXIT_USAGE

ROOT = Path(__file__).resolve().parents[2]
BAD = "apiVersion: platform.tkestack.io/v1\nkind: Cluster\nmetadata: {name: bad}\nspec: {version: '1.30.2', clusterCIDR: 10.0.0.0/16, bootstrapApps: [{app: {spec: {name: cilum, chart: {chartName: cilum}}}}]}\n"


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    folder = tmp_path / "clusters"
    folder.mkdir()
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        shutil.copy(example, folder / example.name)
    return folder


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["plan", *args, "--root", str(ROOT)])
    return result.exit_code, result.stdout


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_folder_gives_one_document_per_cluster_the_same_as_one_by_one(fleet: Path, jobs: str) -> None:
    code, out = run(str(fleet), "-o", "json", "-j", jobs)
    assert code == 0, out
    documents = [json.loads(line) for line in out.splitlines()]
    files = sorted(fleet.iterdir())
    assert [d["file"] for d in documents] == [str(f) for f in files]  # input order, whatever the workers
    for document, path in zip(documents, files, strict=True):
        single_code, single = run(str(path), "-o", "json")
        assert single_code == 0
        alone = json.loads(single)
        assert document["ok"] and document["cluster"] == alone["cluster"]
        assert document["releases"] == alone["releases"] and document["summary"] == alone["summary"]


def test_a_refused_cluster_is_a_document_and_exit_3_the_others_planned(fleet: Path) -> None:
    (fleet / "bad.yaml").write_text(BAD)
    code, out = run(str(fleet), "-o", "json")
    assert code == EXIT_INPUT
    documents = {Path(d["file"]).name: d for d in map(json.loads, out.splitlines())}
    assert len(documents) == 4
    assert not documents["bad.yaml"]["ok"]
    assert any("cilum" in f["message"] for f in documents["bad.yaml"]["findings"])
    assert all(d["ok"] for name, d in documents.items() if name != "bad.yaml")
    code, text = run(str(fleet))
    assert code == EXIT_INPUT
    assert text.splitlines()[-1] == "4 Cluster(s): 3 planned (16 release(s), 16 change(s)), 1 refused"
    assert sum(line.startswith("refused  ") for line in text.splitlines()) == 1


def test_out_dir_writes_one_file_per_cluster(fleet: Path, tmp_path: Path) -> None:
    code, out = run(*map(str, sorted(fleet.iterdir())), "--out-dir", str(tmp_path / "plans"), "--detailed-exitcode")
    assert code == 2, out  # changes pending
    written = sorted(p.name for p in (tmp_path / "plans").iterdir())
    assert written == ["cls-demo.plan.json", "cls-galaxy.plan.json", "cls-underlay.plan.json"]
    assert json.loads((tmp_path / "plans" / "cls-demo.plan.json").read_text())["cluster"] == "cls-demo"


@pytest.mark.parametrize("extra", [["--kubeconfig", "k"], ["--state", "s.json"], ["-o", "table"], ["--out", "p.json"]])
def test_one_cluster_options_are_refused_with_many(fleet: Path, extra: list[str]) -> None:
    code, _ = run(str(fleet), *extra)
    assert code == EXIT_USAGE


def test_a_folder_without_cluster_files_is_invalid_input(tmp_path: Path) -> None:
    code, _ = run(str(tmp_path))
    assert code == EXIT_INPUT


def test_two_clusters_with_one_name_are_invalid_input(fleet: Path, tmp_path: Path) -> None:
    shutil.copy(fleet / "cluster.yaml", fleet / "copy.yaml")
    result = CliRunner().invoke(cli, ["plan", str(fleet), "--out-dir", str(tmp_path / "plans"), "--root", str(ROOT)])
    assert result.exit_code == EXIT_INPUT
    assert "Clusters named twice: cls-demo" in result.stderr


def test_an_out_dir_that_cannot_be_written_is_invalid_input(fleet: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    result = CliRunner().invoke(cli, ["plan", str(fleet), "--out-dir", str(tmp_path / "a-file" / "plans"),
                                      "--root", str(ROOT)])
    assert result.exit_code == EXIT_INPUT
    assert "cannot write plans there" in result.stderr and "unexpected" not in result.stderr

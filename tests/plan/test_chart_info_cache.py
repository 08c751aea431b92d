"""The chart folders' planner view kept between runs: used only while the folder is unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit.adapters import chart_dirs
from toolkit.adapters.chart_dirs import CatalogChartSource
from toolkit.core.model import ChartRef

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(ROOT / "charts", root / "charts")
    return root


def ref(path: str) -> ChartRef:
    return ChartRef(app=path.rsplit("/", 1)[-1], chart_name=path.rsplit("/", 1)[-1], path=path)


def test_a_second_run_reads_no_chart_folder_and_gets_the_same_info(project: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    first = CatalogChartSource(project, cache)
    cilium = first.load(ref("charts/platform/cilium"), first.versions(ref("charts/platform/cilium"))[0])
    metrics = first.load(ref("charts/platform/metrics-server"), first.versions(ref("charts/platform/metrics-server"))[0])

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a chart folder was read although it did not change")

    monkeypatch.setattr(chart_dirs, "load_chart_folder", refuse)
    second = CatalogChartSource(project, cache)
    assert second.load(ref("charts/platform/cilium"), cilium.version) == cilium
    assert second.load(ref("charts/platform/metrics-server"), metrics.version) == metrics  # with its subchart


def test_an_edited_folder_is_read_again(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = "charts/platform/coredns"
    before = CatalogChartSource(project, cache).load(ref(path), CatalogChartSource(project).versions(ref(path))[0])
    values = project / path / "values.yaml"
    values.write_text(values.read_text() + "\naddedByTest: 1\n")
    after = CatalogChartSource(project, cache).load(ref(path), before.version)
    assert after.default_values.get("addedByTest") == 1 and after.digest != before.digest


def test_a_damaged_cache_file_is_ignored(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = "charts/platform/coredns"
    version = CatalogChartSource(project).versions(ref(path))[0]
    good = CatalogChartSource(project, cache).load(ref(path), version)
    for kept in (cache / "chart-info").iterdir():
        kept.write_text("{not json")
    assert CatalogChartSource(project, cache).load(ref(path), version) == good


def test_a_rewrite_with_the_same_size_and_a_restored_mtime_is_seen(project: Path, tmp_path: Path) -> None:
    """What a tar extraction of another build with the same epoch does: other bytes, same size, same mtime."""
    import os

    cache = tmp_path / "cache"
    path = "charts/platform/coredns"
    values = project / path / "values.yaml"
    values.write_text(values.read_text() + "\nmarker: aaaa\n")
    stat = values.stat()
    version = CatalogChartSource(project).versions(ref(path))[0]
    before = CatalogChartSource(project, cache).load(ref(path), version)
    values.write_text(values.read_text().replace("marker: aaaa", "marker: bbbb"))
    os.utime(values, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert values.stat().st_size == stat.st_size and values.stat().st_mtime_ns == stat.st_mtime_ns
    after = CatalogChartSource(project, cache).load(ref(path), version)
    assert before.default_values["marker"] == "aaaa" and after.default_values["marker"] == "bbbb"

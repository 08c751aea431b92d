"""helm's loader rules for charts/ and dependencies, as pure checks over a chart's files."""

from __future__ import annotations

import pytest

from toolkit.core.chart_loader import check_subcharts, subchart_names
from toolkit.errors import InputError


def test_vendored_folders_count_by_the_name_in_their_chart_yaml() -> None:
    files = {"charts/dir-name/Chart.yaml": b"apiVersion: v2\nname: real-name\nversion: 1.0.0\n",
             "charts/dir-name/templates/a.yaml": b"", "charts/empty/values.yaml": b"a: 1\n"}
    names, problems = subchart_names(files, "app")
    assert names == {"real-name": "charts/dir-name/"}
    assert problems == ["charts/empty/ has no Chart.yaml: helm refuses the chart; remove the folder or complete the "
                        "subchart"]


def test_a_dependency_is_matched_by_chart_name_not_folder_name() -> None:
    files = {"charts/dir-name/Chart.yaml": b"apiVersion: v2\nname: real-name\nversion: 1.0.0\n"}
    check_subcharts(files, {"dependencies": [{"name": "real-name", "version": "1.x"}]}, "app")
    with pytest.raises(InputError, match="dependency `dir-name`"):
        check_subcharts(files, {"dependencies": [{"name": "dir-name"}]}, "app")


def test_an_unreadable_archive_is_named() -> None:
    with pytest.raises(InputError, match=r"charts/broken-1\.0\.0\.tgz is not a chart archive"):
        check_subcharts({"charts/broken-1.0.0.tgz": b"not gzip"}, {}, "app")

"""The direct tar writer against `tarfile` (the reference): the same bytes for every catalog chart, and
`tarfile` itself for the names the direct path leaves to it; values.yaml checked as helm loads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.adapters.chart_folder import load_chart_folder
from toolkit.adapters.project import find_chart_dirs
from toolkit.core.archive import _tar_with_tarfile, _ustar, build_chart_archive
from toolkit.core.chart import parse_chart
from toolkit.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mtime", [0, 315532800, 1_700_000_000])
def test_the_direct_writer_writes_tarfiles_bytes_for_every_catalog_chart(mtime: int) -> None:
    for folder in find_chart_dirs(ROOT / "charts"):
        package = load_chart_folder(folder, metadata_only=True)
        entries = [(f"{package.name}/{path}", package.files[path]) for path in package.files]
        assert _ustar(entries, mtime) == _tar_with_tarfile(entries, mtime), folder


@pytest.mark.parametrize("path", ["x/" + "a" * 120, "x/é.yaml"])
def test_names_needing_pax_records_go_through_tarfile(path: str) -> None:
    assert _ustar([(path, b"data")], 0) is None
    files = {"Chart.yaml": b"name: x\n", path.split("/", 1)[1]: b"data"}
    assert build_chart_archive("x", files) == build_chart_archive("x", dict(reversed(files.items())))


@pytest.mark.parametrize(("values", "ok"), [
    (b"a: 1\n", True), (b"", True), (b"# only a comment\n", True), (b"~\n", True), (b"---\na: [1, 2]\n", True),
    (b"- a\n- b\n", False), (b"just text\n", False), (b"a: [\n", False), (b"'~'\n", False),
])
def test_packaging_refuses_a_values_file_helm_cannot_load(values: bytes, ok: bool) -> None:
    files = {"Chart.yaml": b"apiVersion: v2\nname: x\nversion: 0.1.0\n", "values.yaml": values}
    if ok:
        parse_chart(files, "x", metadata_only=True)
    else:
        with pytest.raises(InputError):
            parse_chart(files, "x", metadata_only=True)

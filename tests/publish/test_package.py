"""publish's fast packaging gives exactly `build`'s archives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.publish.conftest import EPOCH, make_charts
from toolkit.actions.build import build_charts
from toolkit.actions.publish import package_charts
from toolkit.adapters.project import find_chart_dirs
from toolkit.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def test_package_charts_matches_build_for_the_real_catalog() -> None:
    folders = find_chart_dirs(ROOT / "charts")
    fast, full = package_charts(folders, epoch=EPOCH), build_charts(folders, epoch=EPOCH)
    assert [(c.name, c.version, c.digest, c.package.content_digest) for c in fast] == [
        (c.name, c.version, c.digest, c.package.content_digest) for c in full]


def test_duplicate_chart_names_are_refused(tmp_path: Path) -> None:
    (one,) = make_charts(tmp_path / "a", ("same",))
    (two,) = make_charts(tmp_path / "b", ("same",))
    with pytest.raises(InputError, match="unique"):
        package_charts([one, two], epoch=EPOCH)


def test_lines_of_one_chart_build_side_by_side_with_their_own_versions(tmp_path: Path) -> None:
    from tests.publish.conftest import chart_files, write_chart

    addons = tmp_path / "charts" / "addons"
    current = write_chart(addons / "same", chart_files("same", version="1.0.0"))
    older = write_chart(addons / "same@0.9", chart_files("same", version="0.9.0"))
    built = package_charts([current, older], epoch=EPOCH)
    assert [(c.name, c.version) for c in built] == [("same", "1.0.0"), ("same", "0.9.0")]
    clash = write_chart(addons / "same@0.8", chart_files("same", version="1.0.0"))
    with pytest.raises(InputError, match="its own version"):
        package_charts([current, clash], epoch=EPOCH)

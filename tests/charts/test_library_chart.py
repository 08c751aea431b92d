"""The shared helpers live once, in charts/library/tke-common, and every chart carries that library's
current build in its charts/ (pinned in its Chart.lock), so no chart drifts from the helpers."""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.actions.build import build_charts
from toolkit.adapters.project import find_chart_dirs
from toolkit.core.dependencies import parse_lock
from toolkit.core.yamldoc import fast_load_plain

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "charts" / "library" / "tke-common"


def test_every_chart_with_helpers_uses_the_library_and_carries_its_current_build() -> None:
    (library,) = build_charts([LIBRARY], epoch=315532800, metadata_only=True)
    users = []
    for folder in find_chart_dirs(ROOT / "charts"):
        meta = fast_load_plain((folder / "Chart.yaml").read_text())
        names = [d["name"] for d in meta.get("dependencies") or []]
        if "tke-common" not in names:
            assert not (folder / "templates" / "_helpers.tpl").exists() or folder == LIBRARY, folder
            continue
        users.append(folder.name)
        vendored = folder / "charts" / f"tke-common-{library.version}.tgz"
        assert vendored.read_bytes() == library.archive, f"{folder}: run `tke-catalog deps update`"
        _, locked = parse_lock((folder / "Chart.lock").read_text(), "Chart.lock")
        assert [(e.name, e.version) for e in locked] == [("tke-common", library.version)]
    assert len(users) >= 20


def test_no_chart_redefines_a_library_helper() -> None:
    copied = re.compile(r'define "[a-z0-9-]+\.(name|fullname|chart|image|serviceAccountName|imagePullSecrets)"')
    for tpl in (ROOT / "charts").glob("*/*/templates/*.tpl"):
        if not tpl.is_relative_to(LIBRARY):
            assert not copied.search(tpl.read_text()), f"{tpl}: use the tke-common helper instead"

"""One chart folder read as helm's loader reads it: the shell side of `toolkit.core.chart.parse_chart`.

Kept apart from `chart_dirs` (the planner's chart sources) so that `build` loads only what packaging needs.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.adapters.files import read_tree
from toolkit.core.chart import ChartPackage, parse_chart
from toolkit.errors import InputError

__all__ = ["load_chart_folder"]


def load_chart_folder(folder: Path, source: str | None = None, *, metadata_only: bool = False) -> ChartPackage:
    """Read a chart folder as helm loads it (links followed; irregular files and links out refused unless ignored)."""
    refused: dict[str, InputError] = {}
    files = read_tree(folder, refused=refused)
    return parse_chart(files, str(folder) if source is None else source, metadata_only=metadata_only,
                       refused=refused)

"""The planner's view of each catalog chart folder, kept on disk between runs: a single `plan` then
reads one small JSON file per chart instead of every file of every chart line (and its .helmignore
rules, subchart archives and YAML).

An entry is used only while the folder is unchanged: its key holds the path, size, mtime, ctime and
inode of every file below the folder (symbolic links followed, as the loader follows them) and this
toolkit's version; ctime and inode change with every write and cannot be set back, unlike an mtime
that a tar extraction or `touch -d` restores. Anything unreadable, stale or not JSON-faithful is simply not used (the folder is read again).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from toolkit import __version__
from toolkit.adapters.files import write_atomic
from toolkit.core.model import ChartInfo
from toolkit.core.subcharts import SubchartInfo

__all__ = ["ChartInfoCache"]

_FORMAT = 1


def _signature(folder: Path) -> str | None:
    """What the folder's contents depend on, cheaply: every file's path, size and mtime."""
    rows: list[str] = []
    try:
        for top, dirs, files in os.walk(folder, followlinks=True):
            dirs.sort()
            for name in sorted(files):
                path = Path(top) / name
                stat = path.stat()
                rows.append(f"{path.relative_to(folder).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\0"
                            f"{stat.st_ctime_ns}\0{stat.st_ino}")
    except OSError:
        return None
    text = f"{_FORMAT}\0{__version__}\0{folder.resolve()}\0" + "\n".join(rows)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _to_json(info: ChartInfo) -> dict[str, Any]:
    data = {k: getattr(info, k) for k in ChartInfo.__dataclass_fields__ if k != "subcharts"}
    data["subcharts"] = [{k: getattr(s, k) for k in SubchartInfo.__dataclass_fields__} for s in info.subcharts]
    return data


def _from_json(data: dict[str, Any]) -> ChartInfo:
    subcharts = tuple(SubchartInfo(**{**s, "tags": tuple(s["tags"]), "import_values": tuple(s["import_values"])})
                      for s in data.pop("subcharts"))
    return ChartInfo(**data, subcharts=subcharts)


class ChartInfoCache:
    """ChartInfo per chart folder under `folder` (the user's cache)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, signature: str) -> Path:
        return self.folder / f"{signature[:40]}.json"

    def get(self, chart_folder: Path) -> tuple[ChartInfo | None, str | None]:
        """The cached info of `chart_folder` if it is still current, and the folder's signature."""
        signature = _signature(chart_folder)
        if signature is None:
            return None, None
        try:
            data = json.loads(self._path(signature).read_text())
            return _from_json(data), signature
        except (OSError, ValueError, TypeError, KeyError):
            return None, signature

    def put(self, signature: str | None, info: ChartInfo) -> None:
        """Keep `info` for the folder state `signature`, if JSON gives it back exactly."""
        if signature is None:
            return
        try:
            text = json.dumps(_to_json(info), sort_keys=True)
            if _from_json(json.loads(text)) != info:  # int keys, dates ...: not faithful, not kept
                return
            write_atomic(self._path(signature), text.encode())
        except (OSError, ValueError, TypeError):
            return

"""Is it the same chart, however it was packaged? (pure)

`helm package` rewrites what it saves: every Chart.yaml and Chart.lock is marshalled again from the
parsed metadata, and a subchart kept in `charts/` as an archive is saved unpacked, as a folder named
after the chart. Our archives keep the files as they are. `comparable_files` undoes the difference, so
a chart pushed by `helm package && helm push` and the same chart built by us compare equal: subchart
archives unpacked to `charts/<name>/`, every Chart.yaml reduced to its name and version, Chart.lock
left out (the files it pins are compared themselves).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from toolkit.core.archive_reader import read_chart_archive
from toolkit.core.yamldoc import fast_load_plain

__all__ = ["comparable_files"]

_MAX_DEPTH = 10  # nested subchart archives followed at most this deep


def _identity(chart_yaml: bytes) -> bytes:
    meta = fast_load_plain(chart_yaml.decode("utf-8", "replace"))
    meta = meta if isinstance(meta, dict) else {}
    return json.dumps({key: str(meta.get(key, "")) for key in ("name", "version")}).encode()


def comparable_files(files: Mapping[str, bytes], where: str, *, depth: int = 0) -> dict[str, bytes]:
    """The chart's files in a packaging-neutral form (see the module docstring)."""
    out: dict[str, bytes] = {}
    for path, data in files.items():
        parts = path.split("/")
        name = parts[-1]
        if name == "Chart.lock" and _chart_level(parts):
            continue
        if name == "Chart.yaml" and _chart_level(parts):
            out[path] = _identity(data)
        elif len(parts) >= 2 and parts[-2] == "charts" and name.endswith(".tgz") and _chart_level(parts) \
                and depth < _MAX_DEPTH:
            sub_name, sub_files = read_chart_archive(data, f"{where}/{path}")
            prefix = "/".join([*parts[:-1], sub_name]) + "/"
            for sub_path, sub_data in comparable_files(sub_files, f"{where}/{path}", depth=depth + 1).items():
                out[prefix + sub_path] = sub_data
        else:
            out[path] = data
    return out


def _chart_level(parts: list[str]) -> bool:
    """Whether the file sits at a chart's top: the chart's own, or `charts/<sub>/...` all the way down."""
    folders = parts[:-1]
    if len(folders) % 2:
        return len(folders) >= 1 and folders[-1] == "charts" and all(
            folders[i] == "charts" for i in range(0, len(folders) - 1, 2))
    return all(folders[i] == "charts" for i in range(0, len(folders), 2))

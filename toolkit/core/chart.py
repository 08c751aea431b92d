"""A chart as data: its packaged files and its parsed Chart.yaml, values and schema (pure)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from toolkit.core.archive import chart_files, content_digest
from toolkit.core.chart_loader import check_subcharts
from toolkit.core.version_text import version_parts
from toolkit.core.yamldoc import fast_load_plain, mapping_top, parse_yaml, to_plain
from toolkit.errors import InputError

__all__ = ["ChartPackage", "lines_of_one_chart", "parse_chart", "parse_chart_metadata", "split_chart_label"]

_BLANK = re.compile(r"(?:[ \t]*(?:#[^\n]*)?(?:\r?\n|\Z))*")
"""Text holding only blank lines and comments (an empty values.yaml)."""


@dataclass(frozen=True)
class ChartPackage:
    """A chart folder's packaged files plus what we read from them."""

    source: str
    files: Mapping[str, bytes]
    metadata: Mapping[str, Any]
    content_digest: str
    values: Mapping[str, Any] = field(default_factory=dict)
    schema: Mapping[str, Any] | None = None

    @property
    def name(self) -> str:
        return str(self.metadata["name"])

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def is_library(self) -> bool:
        """A library chart (`type: library`): helpers for other charts, nothing helm can render or install."""
        return self.metadata.get("type") == "library"


def parse_chart_metadata(text: str, source: str) -> dict[str, Any]:
    """Chart.yaml as a plain dict; name and version must be present strings."""
    data = fast_load_plain(text, version=(1, 2))  # what parse_yaml reads, without the round-trip cost
    if not isinstance(data, dict):
        data = to_plain(parse_yaml(text, source))
    if not isinstance(data, dict):
        raise InputError(f"{source}: Chart.yaml must be a mapping", hint="see helm's Chart.yaml reference")
    for key in ("name", "version"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise InputError(f"{source}: `{key}` is missing or not a string", hint=f"add `{key}:` to Chart.yaml")
    _check_as_helm(data, source)
    return data


_ALIAS = re.compile(r"[a-zA-Z0-9_-]+\Z")


def _check_as_helm(data: Mapping[str, Any], source: str) -> None:
    """What helm's loader checks in Chart.yaml (`chart.Metadata.Validate`), so that nothing helm refuses
    to load is packaged: a name that is a plain file name, a semantic version, a known type, dependency
    aliases of letters, digits, `_` and `-`, no two dependencies under one name or alias."""
    name = "".join(c for c in data["name"] if c.isprintable())
    if name in (".", "..") or "/" in name:
        raise InputError(f"{source}: chart name {name!r} is invalid (helm: \"chart.metadata.name is invalid\")",
                         hint="name the chart with letters, digits and `-`, without `/`")
    try:
        version_parts(data["version"])
    except InputError as exc:
        raise InputError(f"{source}: version {data['version']!r} is not a semantic version helm accepts",
                         hint="use MAJOR.MINOR.PATCH, e.g. 1.2.3 (a pre-release as 1.2.3-rc.1)") from exc
    if data.get("type") not in (None, "", "application", "library"):
        raise InputError(f"{source}: chart type {data.get('type')!r} is invalid",
                         hint="helm knows `type: application` (the default) and `type: library`")
    seen: set[str] = set()
    for dependency in data.get("dependencies") or []:
        if not isinstance(dependency, Mapping):
            raise InputError(f"{source}: a dependency is empty or not a mapping", hint="remove the empty entry")
        alias = dependency.get("alias")
        if alias and not _ALIAS.match(str(alias)):
            raise InputError(f"{source}: dependency {dependency.get('name')!r} has disallowed characters in its "
                             f"alias {alias!r}", hint="use letters, digits, `_` and `-` in an alias")
        key = str(alias or dependency.get("name"))
        if key in seen:
            raise InputError(f"{source}: more than one dependency with name or alias {key!r}",
                             hint="give the second copy its own `alias:`")
        seen.add(key)


def parse_chart(files: Mapping[str, bytes], source: str, *, metadata_only: bool = False,
                refused: Mapping[str, InputError] | None = None) -> ChartPackage:
    """Select the files helm packages and parse Chart.yaml, values.yaml and values.schema.json
    (with `metadata_only`, for packaging and publishing, only Chart.yaml, and values.yaml is checked
    to be what helm loads: well-formed YAML with a mapping at its top). `refused`: what the folder
    cannot give (see `chart_files`), an error unless `.helmignore` leaves it out."""
    if "Chart.yaml" not in files:
        raise InputError(f"{source}: no Chart.yaml", hint="a chart folder needs a Chart.yaml at its top")
    packaged = chart_files(files, refused=refused, source=source)
    if "Chart.yaml" not in packaged:
        raise InputError(f"{source}/.helmignore leaves out Chart.yaml (helm: \"Chart.yaml file is missing\")",
                         hint="change the .helmignore rule that matches Chart.yaml")
    files = packaged
    metadata = parse_chart_metadata(files["Chart.yaml"].decode("utf-8", "replace"), f"{source}/Chart.yaml")
    check_subcharts(packaged, metadata, source)
    if metadata_only:
        if "values.yaml" in files:
            _check_values_loadable(files["values.yaml"], f"{source}/values.yaml")
        return ChartPackage(source, packaged, metadata, content_digest(packaged))
    values: Any = {}
    if "values.yaml" in files:
        text = files["values.yaml"].decode("utf-8", "replace")
        values = fast_load_plain(text, version=(1, 1))  # YAML 1.1, as helm reads values
        if not isinstance(values, dict) and not _BLANK.fullmatch(text):
            values = to_plain(parse_yaml(text, f"{source}/values.yaml", version=(1, 1))) or {}
        values = values or {}
    schema = None
    if "values.schema.json" in files:
        try:
            schema = json.loads(files["values.schema.json"])
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}/values.schema.json:{exc.lineno}: invalid JSON: {exc.msg}",
                             hint="fix the schema file") from exc
    return ChartPackage(source, packaged, metadata, content_digest(packaged), values, schema)


_STRICT_VERSION = re.compile(r"v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_LENIENT_VERSION = re.compile(r"v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")


def split_chart_label(label: str) -> tuple[str, str]:
    """Helm's `chart` field (`NAME-VERSION`, as `helm list` prints it) → (name, version).

    VERSION may itself hold `-` (`my-chart-1.2.0-rc.1`), and NAME may end in digits (`foo-2-1.0.0`): the
    split is the leftmost `-` after which a full MAJOR.MINOR.PATCH version follows, else the leftmost
    one followed by any version helm accepts, else the last `-`.
    """
    dashes = [i for i, c in enumerate(label) if c == "-" and i > 0]
    for pattern in (_STRICT_VERSION, _LENIENT_VERSION):
        for i in dashes:
            if pattern.fullmatch(label[i + 1:]):
                return label[:i], label[i + 1:]
    if not dashes:
        return label, ""
    return label[:dashes[-1]], label[dashes[-1] + 1:]


def lines_of_one_chart(first: str, other: str, name: str) -> bool:
    """True when two different folders side by side are lines of chart `name`: `cilium` and `cilium@1.14`."""
    a, b = PurePosixPath(first.replace("\\", "/").rstrip("/")), PurePosixPath(other.replace("\\", "/").rstrip("/"))
    return (a.parent == b.parent and a.name != b.name
            and a.name.split("@", 1)[0] == b.name.split("@", 1)[0] == name)


def _check_values_loadable(data: bytes, source: str) -> None:
    """Refuse a values.yaml helm cannot load, fast (no objects built) when libyaml says it is fine."""
    text = data.decode("utf-8", "replace")
    if mapping_top(text):
        return
    values = to_plain(parse_yaml(text, source, version=(1, 1)))  # a located error for broken YAML
    if values is not None and not isinstance(values, dict):
        raise InputError(f"{source}: values must be a mapping at the top, not a {type(values).__name__}",
                         hint="write `key: value` pairs (helm cannot load this chart)")

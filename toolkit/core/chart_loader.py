"""Helm's loader rules for a chart's `charts/` folder and its declared dependencies. Pure.

helm refuses to load (and `helm package` to package) a chart whose `charts/` holds a file that is not a
chart archive, a folder without Chart.yaml, or that lacks a dependency Chart.yaml names. Publishing such
a chart would push a version helm can never install, so building it is refused the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.core.archive_reader import read_chart_archive
from toolkit.core.yamldoc import fast_load_plain
from toolkit.errors import InputError, RegistryError

__all__ = ["check_subcharts", "subchart_names"]


def subchart_names(files: Mapping[str, bytes], source: str) -> tuple[dict[str, str], list[str]]:
    """The charts under `charts/` (chart name → its entry) and the problems helm's loader would refuse."""
    names: dict[str, str] = {}
    problems: list[str] = []
    entries: dict[str, list[str]] = {}
    for path in files:
        if path.startswith("charts/") and not path.endswith(".prov"):  # provenance files stay plain files
            entry = path.split("/", 2)[1]
            if entry[:1] in ("_", "."):
                continue  # helm's loader skips charts/_x and charts/.x (a .gitkeep, say)
            entries.setdefault(entry, []).append(path)
    for entry, paths in sorted(entries.items()):
        direct = f"charts/{entry}"
        if direct in files and entry.endswith(".tgz"):
            try:
                name, _ = read_chart_archive(files[direct], f"{source}/{direct}")
            except RegistryError as exc:
                problems.append(f"charts/{entry} is not a chart archive helm can read ({exc.message})")
                continue
            names[name] = direct
        elif direct in files:
            problems.append(f"charts/{entry} is neither a chart archive (.tgz) nor a chart folder: helm refuses "
                            "the chart (\"Chart.yaml file is missing\"); remove it, or list it in .helmignore")
        elif f"{direct}/Chart.yaml" not in files:
            problems.append(f"charts/{entry}/ has no Chart.yaml: helm refuses the chart; remove the folder or "
                            "complete the subchart")
        else:
            meta = fast_load_plain(files[f"{direct}/Chart.yaml"].decode("utf-8", "replace"))
            declared = meta.get("name") if isinstance(meta, dict) else None
            if not isinstance(declared, str) or not declared:
                problems.append(f"charts/{entry}/Chart.yaml has no name: helm refuses the chart")
            else:
                names[declared] = f"{direct}/"
    return names, problems


def check_subcharts(files: Mapping[str, bytes], metadata: Mapping[str, Any], source: str) -> None:
    """Raise InputError naming every `charts/` problem and every dependency missing from `charts/`."""
    names, problems = subchart_names(files, source)
    dependencies = metadata.get("dependencies") or []
    if "requirements.yaml" in files:  # helm reads it over Chart.yaml's list (apiVersion v1's place for it)
        requirements = fast_load_plain(files["requirements.yaml"].decode("utf-8", "replace"))
        if isinstance(requirements, dict) and "dependencies" in requirements:
            dependencies = requirements.get("dependencies") or []
    for dependency in dependencies:
        if not isinstance(dependency, Mapping) or not dependency.get("name"):
            problems.append("a dependency in Chart.yaml has no name")
            continue
        name = str(dependency["name"])
        if name not in names:
            where = dependency.get("repository") or "no repository"
            problems.append(f"dependency `{name}` ({dependency.get('version', 'any version')}, {where}) is "
                            "named in Chart.yaml but missing from charts/")
    if problems:
        raise InputError(f"{source}: helm would refuse this chart: " + "; ".join(problems),
                         hint="run `tke-catalog deps build CHART` (or `helm dependency build`) to fetch its "
                              "dependencies into charts/, and keep only chart archives and chart folders there")

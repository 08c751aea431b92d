"""The project on disk: which folder it is (one rule for every verb), its catalog, schemas and charts.

The root is, first to last: `--root` (or `--catalog`), `TKE_CATALOG_ROOT`, the nearest folder above the
working directory that holds `catalog/catalog.yaml`, the catalog this toolkit ships with. A root that
is named but is no project (neither `catalog/catalog.yaml` nor `charts/`) is refused, whichever way it
was named.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.adapters.files import read_text
from toolkit.core.yamldoc import fast_load_plain, parse_yaml
from toolkit.errors import CatalogError, InputError, SchemaError, UsageError

if TYPE_CHECKING:
    from toolkit.core.catalog import Catalog

__all__ = ["bundled_root", "chart_folders", "find_chart_dirs", "load_catalog", "load_schema", "resolve_root"]

_CATALOG_FILE = Path("catalog") / "catalog.yaml"


def bundled_root() -> Path:
    """The repository this toolkit runs from (its catalog, charts and schemas)."""
    return Path(__file__).resolve().parents[2]


def _project_at(folder: Path) -> Path | None:
    """`folder` when it is a project (a catalog, or at least a charts/ folder), its parent when it is
    the catalog folder itself."""
    if (folder / _CATALOG_FILE).is_file() or (folder / "charts").is_dir():
        return folder
    if folder.name == "catalog" and (folder / "catalog.yaml").is_file():
        return folder.parent
    return None


def resolve_root(given: Path | None, env_root: str | None, cwd: Path) -> Path:
    """The project folder by the one rule above; UsageError names the flag or variable that is wrong."""
    for value, named_by in ((given, "--root"), (Path(env_root) if env_root else None, "TKE_CATALOG_ROOT")):
        if value is None:
            continue
        found = _project_at(value)
        if found is None:
            raise UsageError(f"{named_by} {value}: not a project folder (no catalog/catalog.yaml, no charts/)",
                             hint=f"point {named_by} at the folder that holds catalog/ and charts/")
        return found.resolve()
    start = cwd.resolve()
    for folder in (start, *start.parents):
        if (folder / _CATALOG_FILE).is_file():
            return folder
    return bundled_root()


def load_schema(root: Path, name: str) -> dict[str, Any]:
    """`schemas/<name>` from the catalog root, falling back to the toolkit's own copy."""
    path = root / "schemas" / name
    if not path.is_file():
        path = bundled_root() / "schemas" / name
    return _load_json(str(path))


@lru_cache(maxsize=32)
def _load_json(path: str) -> dict[str, Any]:
    text = read_text(Path(path))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}", hint="fix the schema file") from exc
    if not isinstance(data, dict):
        raise SchemaError(f"{path}: a schema must be a JSON object", hint="fix the schema file")
    return data


def load_catalog(root: Path) -> Catalog:
    """Read, parse and check catalog/catalog.yaml; raises CatalogInvalid with every error."""
    from toolkit.core.catalog import (  # with the schema library: only when asked
        check_catalog,
        parse_catalog,
    )
    from toolkit.core.findings import catalog_invalid, has_errors

    path = root / _CATALOG_FILE
    source = str(_CATALOG_FILE) if root == Path.cwd() else str(path)
    text = read_text(path)
    schema = load_schema(root, "catalog.schema.json")
    plain = fast_load_plain(text, version=(1, 2))
    if isinstance(plain, dict):
        # the fast path; anything wrong is reported from the round-trip tree below, with line numbers
        try:
            catalog = parse_catalog(plain, source, schema=schema)
        except CatalogError:
            pass
        else:
            if not has_errors(check_catalog(catalog)):
                return catalog
    tree = parse_yaml(text, source)
    catalog = parse_catalog(tree, source, schema=schema, tree=tree)
    findings = check_catalog(catalog)
    if has_errors(findings):
        raise catalog_invalid(findings, source)
    return catalog


def find_chart_dirs(charts_root: Path) -> list[Path]:
    """Every chart folder two levels below `charts/` (charts/platform/X, charts/addons/Y), sorted."""
    if not charts_root.is_dir():
        raise InputError(f"{charts_root}: no charts folder", hint="run from the project root or pass --root")
    return sorted(p.parent for p in charts_root.glob("*/*/Chart.yaml"))


def chart_folders(values: Iterable[str], root: Path) -> list[Path]:
    """Each value as a chart folder: a folder that exists, else a catalog app's chart folders (every
    line); InputError (exit 3) for anything else, with the nearest app name."""
    folders: list[Path] = []
    catalog = None
    for value in values:
        path = Path(value)
        if path.is_dir():
            folders.append(path)
            continue
        if path.exists():
            raise InputError(f"{value}: not a chart folder", hint="pass a folder holding Chart.yaml")
        if catalog is None:
            catalog = load_catalog(root)
        app = catalog.get(value) if "/" not in value else None
        if app is None:
            from toolkit.core.schema import did_you_mean

            guess = did_you_mean(value, [a.name for a in catalog.apps]) if "/" not in value else None
            raise InputError(f"{value}: no such folder, nor a catalog app of that name",
                             hint=f"did you mean {guess}?" if guess else "check the path")
        folders += [root / folder for folder in app.chart_folders]
    return folders

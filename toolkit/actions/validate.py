"""The `validate` verb: check a Cluster file against the schema, the catalog and every chart's schema.

Composes the loader (files) and the pure core. `validate_cluster_text` is also what the `apps` editing
verb calls before it writes a Cluster file.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolkit.core.catalog import Catalog, CatalogInvalid, check_catalog, parse_catalog
from toolkit.core.cluster import ParsedCluster, parse_cluster
from toolkit.errors import CatalogError, SchemaError, UsageError, YamlError
from toolkit.core.findings import Finding, Severity, has_errors, yaml_error_finding
from toolkit.adapters.files import read_text
from toolkit.core.plan import ChartSource, InstalledState, check_plan
from toolkit.core.yamldoc import fast_load_plain, parse_yaml

__all__ = [
    "bundled_root",
    "find_catalog_root",
    "load_catalog",
    "load_schema",
    "parse_cluster_text",
    "run_validate",
    "validate_cluster_text",
]

_CATALOG_FILE = Path("catalog") / "catalog.yaml"


def bundled_root() -> Path:
    """The repository this toolkit runs from (its catalog, charts and schemas)."""
    return Path(__file__).resolve().parents[2]


def find_catalog_root(given: Path | None, cwd: Path | None = None) -> Path:
    """The folder holding catalog/catalog.yaml: `given` (or its parent, when it is the catalog folder),
    else the nearest one above the working directory, else the bundled one."""
    if given is not None:
        if (given / _CATALOG_FILE).is_file():
            return given
        if (given / "catalog.yaml").is_file():
            return given.parent
        raise UsageError(f"--catalog {given}: no catalog/catalog.yaml there",
                         hint="point --catalog at the repository root that holds catalog/catalog.yaml")
    start = (cwd or Path.cwd()).resolve()
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
    if any(f.severity is Severity.ERROR for f in findings):
        raise CatalogInvalid(findings, source)
    return catalog


def parse_cluster_text(text: str, source: str, root: Path | None = None) -> ParsedCluster:
    """Parse a Cluster file's text against the cluster schema (YAML syntax errors become a finding)."""
    schema = load_schema(root or bundled_root(), "cluster.schema.json")
    try:
        return parse_cluster(text, source, schema=schema)
    except YamlError as exc:
        return ParsedCluster(None, [yaml_error_finding(exc, source, rule="yaml")])


def validate_cluster_text(text: str, source: str, catalog: Catalog, charts: ChartSource,
                          *, state: InstalledState | None = None) -> list[Finding]:
    """Every finding for a Cluster file's text: schema, catalog references, dependencies, chart values."""
    parsed = parse_cluster_text(text, source)
    if parsed.cluster is None:
        return parsed.findings
    _, findings = check_plan(parsed.cluster, catalog, charts, state=state, allow_critical_removal=True)
    return [*parsed.findings, *findings]


def run_validate(cluster_path: Path, catalog_root: Path | None = None,
                 charts: ChartSource | None = None) -> list[Finding]:
    """The `validate` verb: the findings for one Cluster file (charts default to the catalog's folders)."""
    from toolkit.adapters.chart_dirs import CatalogChartSource

    root = find_catalog_root(catalog_root)
    catalog = load_catalog(root)
    source = charts if charts is not None else CatalogChartSource(root)
    return validate_cluster_text(read_text(cluster_path), str(cluster_path), catalog, source)

"""The `validate` verb: check a Cluster file against the schema, the catalog and every chart's schema.

Composes the loader (files) and the pure core. `validate_cluster_text` is also what the `apps` editing
verb calls before it writes a Cluster file.
"""

from __future__ import annotations

from pathlib import Path

from toolkit.adapters.files import read_text
from toolkit.adapters.project import bundled_root, load_catalog, load_schema
from toolkit.core.catalog import Catalog
from toolkit.core.cluster import ParsedCluster, parse_cluster
from toolkit.core.findings import (
    Finding,
    yaml_error_finding,
)
from toolkit.core.model import ChartSource, InstalledState
from toolkit.core.plan import check_plan
from toolkit.errors import (
    YamlError,
)

__all__ = [
    "parse_cluster_text",
    "run_validate",
    "validate_cluster_text",
]

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


def run_validate(cluster_path: Path, root: Path,
                 charts: ChartSource | None = None) -> list[Finding]:
    """The `validate` verb: the findings for one Cluster file (charts default to the catalog's folders)."""
    from toolkit.adapters.chart_dirs import CatalogChartSource

    catalog = load_catalog(root)
    source = charts if charts is not None else CatalogChartSource(root)
    return validate_cluster_text(read_text(cluster_path), str(cluster_path), catalog, source)

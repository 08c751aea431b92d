"""Shared helpers for the plan tests: the real catalog and charts, plus a fake registry of custom charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from toolkit.actions.validate import parse_cluster_text
from toolkit.adapters.chart_dirs import CatalogChartSource, ChainedChartSource
from toolkit.adapters.project import load_catalog
from toolkit.core.catalog import Catalog
from toolkit.core.cluster import Cluster
from toolkit.core.model import ChartInfo, ChartRef

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "clusters"

SHOP_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "global": {"type": "object"},
        "replicas": {"type": "integer", "minimum": 1},
        "apiToken": {"type": "string"},
        "database": {"type": "object", "properties": {"password": {"type": "string"}, "host": {"type": "string"}}},
    },
}


class FakeRegistry:
    """A chart source holding several versions of custom charts, recording what was loaded."""

    def __init__(self, charts: dict[str, list[str]] | None = None) -> None:
        self.charts = charts if charts is not None else {"shop": ["1.1.0", "1.2.0", "1.2.5", "1.3.0", "2.0.0"]}
        self.loaded: list[tuple[str, str]] = []

    def versions(self, app: ChartRef) -> list[str]:
        return list(self.charts.get(app.chart_name, [])) if app.repo_url else []

    def load(self, app: ChartRef, version: str) -> ChartInfo:
        self.loaded.append((app.chart_name, version))
        return ChartInfo(name=app.chart_name, version=version, digest="sha256:" + version.replace(".", "") * 8,
                         default_values={"replicas": 1, "database": {"host": "db"}}, schema=SHOP_SCHEMA,
                         path=f"{app.repo_url}/{app.chart_name}")


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(ROOT)


@pytest.fixture(scope="session")
def local_charts() -> CatalogChartSource:
    return CatalogChartSource(ROOT)


@pytest.fixture()
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture()
def charts(local_charts: CatalogChartSource, registry: FakeRegistry) -> ChainedChartSource:
    return ChainedChartSource([local_charts, registry])


def load_cluster(name: str) -> Cluster:
    path = FIXTURES / name
    parsed = parse_cluster_text(path.read_text(), f"clusters/{name}", ROOT)
    assert parsed.cluster is not None, parsed.findings
    return parsed.cluster


def cluster_from_text(text: str, source: str = "cluster.yaml") -> Cluster:
    parsed = parse_cluster_text(text, source, ROOT)
    assert parsed.cluster is not None, parsed.findings
    return parsed.cluster

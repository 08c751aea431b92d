"""`matrix`: the support matrix of the catalog (apps × Kubernetes minors → the chart version chosen)."""

from __future__ import annotations

from pathlib import Path

from toolkit.adapters.chart_dirs import CatalogChartSource
from toolkit.adapters.project import load_catalog
from toolkit.core.matrix import MatrixRow, support_matrix
from toolkit.core.model import ChartSource

__all__ = ["catalog_matrix"]


def catalog_matrix(root: Path, charts: ChartSource | None = None) -> list[MatrixRow]:
    """Every catalog app's row, from the chart versions the chart source offers and their kubeVersion."""
    catalog = load_catalog(root)
    source = charts if charts is not None else CatalogChartSource(root)
    apps = []
    for app in catalog.apps:
        ref = app.chart_ref
        versions = [(version, source.load(ref, version).kube_version) for version in source.versions(ref)]
        apps.append((app.name, app.name, versions))
    return support_matrix(apps)

"""Values of subcharts validated as helm validates them: under the dependency's alias, only when its
condition and tags leave it enabled, against the subchart's own schema, with `import-values` feeding the
parent's schema. helm is the oracle: `helm template` of the same chart and values fails exactly when
the plan reports a values-schema error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.plan.conftest import cluster_from_text
from tests.support.registry_fixtures import require_helm
from toolkit.adapters.chart_dirs import (
    CatalogChartSource,
    ChainedChartSource,
    chart_info,
)
from toolkit.adapters.chart_folder import load_chart_folder
from toolkit.adapters.project import load_catalog
from toolkit.core.model import ChartInfo, ChartRef
from toolkit.core.plan import resolve_plan
from toolkit.errors import PlanRejected

ROOT = Path(__file__).resolve().parents[2]
DB_SCHEMA = {"type": "object", "properties": {"replicas": {"type": "integer"}, "enabled": {"type": "boolean"}}}
PARENT_SCHEMA = {"type": "object", "properties": {"port": {"type": "integer"}}, "required": ["port"]}

CLUSTER = """apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata: {{name: cls-sub}}
spec:
  version: 1.30.2
  features: {{containerRuntime: containerd}}
  bootstrapApps:
    - app:
        metadata: {{name: shop, namespace: shop}}
        spec:
          name: shop
          targetNamespace: shop
          chart: {{chartName: shop, chartVersion: 0.1.0, repoURL: oci://registry.example.com/charts}}
          values:
            rawValues: |
{values}
"""


def _write_chart(folder: Path, name: str, chart_yaml_extra: str = "", values: str = "",
                 schema: dict[str, Any] | None = None) -> Path:
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n{chart_yaml_extra}")
    (folder / "values.yaml").write_text(values)
    (folder / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-{{ .Chart.Name }}}\n")
    if schema is not None:
        (folder / "values.schema.json").write_text(json.dumps(schema))
    return folder


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("subcharts")
    parent = _write_chart(root / "shop", "shop", "dependencies:\n"
                          "  - {name: db, version: 0.1.0, alias: database, condition: database.enabled}\n"
                          "  - {name: cache, version: 0.1.0, tags: [caching], import-values: [conn]}\n",
                          values="# no port: the cache exports one\n", schema=PARENT_SCHEMA)
    _write_chart(parent / "charts" / "db", "db", values="replicas: 1\n", schema=DB_SCHEMA)
    _write_chart(parent / "charts" / "cache", "cache", values="replicas: 1\nexports: {conn: {port: 6379}}\n",
                 schema=DB_SCHEMA)
    return parent


class FolderSource:
    """Serves the `shop` chart folder to the planner."""

    def __init__(self, folder: Path) -> None:
        self.info = chart_info(load_chart_folder(folder), str(folder))

    def versions(self, app: ChartRef) -> list[str]:
        return ["0.1.0"] if app.chart_name == "shop" else []

    def load(self, app: ChartRef, version: str) -> ChartInfo:
        return self.info


def _our_errors(shop: Path, values: str) -> list[str]:
    cluster = cluster_from_text(CLUSTER.format(values="\n".join("              " + line for line in values.splitlines())))
    charts = ChainedChartSource([CatalogChartSource(ROOT), FolderSource(shop)])
    try:
        resolve_plan(cluster, load_catalog(ROOT), charts)
    except PlanRejected as rejected:
        return [f.path for f in rejected.findings if f.rule == "values-schema"]
    return []


def _helm_fails(shop: Path, values: str, tmp_path: Path) -> bool:
    (tmp_path / "values.yaml").write_text(values)
    env = {"HELM_CACHE_HOME": str(tmp_path / "c"), "HELM_CONFIG_HOME": str(tmp_path / "g"),
           "HELM_DATA_HOME": str(tmp_path / "d"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([str(require_helm()), "template", "r", str(shop), "-f", str(tmp_path / "values.yaml")],  # noqa: S603
                            capture_output=True, text=True, env=env, check=False, timeout=60)
    return result.returncode != 0


CASES = [
    # (values, the paths we must report)
    ("database: {replicas: two}\n", ["$.database.replicas"]),  # under the alias, not the chart's name
    ("db: {replicas: two}\n", []),  # the chart's own name is not where its values live
    ("database: {replicas: two, enabled: false}\n", []),  # condition false: not installed, not validated
    ("cache: {replicas: two}\n", ["$.cache.replicas"]),
    # its only tag false: disabled, so not validated, and its export (the required port) is not imported
    ("tags: {caching: false}\ncache: {replicas: two}\n", ["$"]),
    ("tags: {caching: false}\nport: 80\ncache: {replicas: two}\ndatabase: {replicas: 3}\n", []),
    ("tags: {caching: true}\nport: 80\ncache: {replicas: two}\n", ["$.cache.replicas"]),
    ("cache: {exports: {conn: {port: not-a-port}}}\n", []),  # imports come from the charts' defaults
    ("port: not-a-port\n", ["$.port"]),  # ... and a value given wins over the imported one
]


@pytest.mark.parametrize(("values", "paths"), CASES)
def test_subchart_values_are_validated_where_and_when_helm_validates_them(shop: Path, values: str,
                                                                            paths: list[str]) -> None:
    assert sorted(_our_errors(shop, values)) == paths


@pytest.mark.helm
@pytest.mark.parametrize(("values", "paths"), CASES)
def test_helm_agrees(shop: Path, values: str, paths: list[str], tmp_path: Path) -> None:
    assert _helm_fails(shop, values, tmp_path) is bool(paths)

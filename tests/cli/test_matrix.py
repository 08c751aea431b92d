"""The support matrix: the README's copy is what `tke-catalog matrix -o markdown` prints, and the planner
picks chart versions by the same rule (the newest whose kubeVersion admits the Cluster)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from click.testing import CliRunner

from tests.plan.conftest import cluster_from_text
from toolkit.adapters.project import load_catalog
from toolkit.cli import cli
from toolkit.core.matrix import support_matrix
from toolkit.core.model import Action, ChartInfo, ChartRef
from toolkit.core.plan import resolve_plan

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_matrix_is_current() -> None:
    printed = CliRunner().invoke(cli, ["matrix", "--root", str(ROOT), "-o", "markdown"])
    assert printed.exit_code == 0, printed.output
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- matrix:", 1)[1].split("-->", 1)[1].split("<!-- /matrix -->", 1)[0]
    assert block.strip() == printed.stdout.strip()


def test_matrix_json_names_every_app_and_minor() -> None:
    printed = CliRunner().invoke(cli, ["matrix", "--root", str(ROOT), "-o", "json"])
    data = json.loads(printed.stdout)
    assert data["kubernetes"][0] == "1.19" and len(data["apps"]) == len(load_catalog(ROOT).apps)
    cilium = next(a for a in data["apps"] if a["app"] == "cilium")
    assert cilium["versions"]["1.21"] == "0.0.16" and cilium["versions"]["1.30"] == "0.1.3"  # the 1.14 line, then 1.18
    ipam = next(a for a in data["apps"] if a["app"] == "galaxy-ipam")
    assert ipam["versions"]["1.21"] == "0.1.3" and ipam["versions"]["1.22"] is None


def test_the_newest_line_that_admits_each_minor() -> None:
    (row,) = support_matrix([("cni", "cni", [("1.0.0", ">=1.19.0-0 <1.25.0-0"), ("2.0.0", ">=1.24.0-0")])])
    assert row.chosen[19] == "1.0.0" and row.chosen[24] == "2.0.0" and row.chosen[30] == "2.0.0"


class TwoLines:
    """A chart source with an old line for old Kubernetes and a new one."""

    lines: Mapping[str, str] = {"1.0.0": ">=1.19.0-0 <1.22.0-0", "2.0.0": ">=1.22.0-0"}

    def versions(self, app: ChartRef) -> list[str]:
        return list(self.lines) if app.chart_name == "hello" else []

    def load(self, app: ChartRef, version: str) -> ChartInfo:
        return ChartInfo("hello", version, f"sha256:{version}", {}, None, kube_version=self.lines[version])


def test_the_planner_picks_the_line_for_the_cluster_s_kubernetes() -> None:
    from toolkit.adapters.chart_dirs import CatalogChartSource, ChainedChartSource

    charts = ChainedChartSource([TwoLines(), CatalogChartSource(ROOT)])
    base = (ROOT / "tests/fixtures/tkestack/skip-metrics-server.yaml").read_text() + """  bootstrapApps:
    - app:
        spec:
          name: hello
          targetNamespace: demo
          chart: {chartName: hello, repoURL: "oci://example.invalid/charts"}
"""
    old = resolve_plan(cluster_from_text(base), load_catalog(ROOT), charts).get("hello")
    new = resolve_plan(cluster_from_text(base.replace("1.21.4-tke.1", "1.30.2")), load_catalog(ROOT), charts)
    assert old is not None and old.version == "1.0.0" and old.action is Action.INSTALL
    assert new.get("hello") is not None and new.get("hello").version == "2.0.0"  # type: ignore[union-attr]

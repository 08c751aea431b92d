"""What the planner picks renders and passes the API of the Cluster's own Kubernetes: a TKEStack 1.21
Cilium Cluster (overlay and underlay with BGP), a Galaxy Cluster on 1.19 with galaxy-ipam, and a Cilium
Cluster on the newest minor, each release rendered by the real helm with its planned values."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plan.conftest import cluster_from_text
from tests.plan.test_chart_lines import cluster
from tests.support.registry_fixtures import require_helm
from toolkit.adapters.api_specs import load_api_spec
from toolkit.adapters.chart_dirs import CatalogChartSource
from toolkit.adapters.helm import Helm
from toolkit.adapters.project import load_catalog
from toolkit.core.api_check import check_objects
from toolkit.core.findings import Severity
from toolkit.core.plan import resolve_plan

pytestmark = pytest.mark.helm

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(("version", "minor", "cilium", "mode", "extra"), [
    ("1.21.4-tke.1", 21, True, "overlay", ()),
    ("1.21.4-tke.1", 21, True, "underlay", ()),
    ("1.19.7", 19, False, "overlay", ("galaxy-ipam", "prometheus", "cron-hpa")),
    ("1.36.3", 36, True, "underlay", ("prometheus",)),
])
def test_every_planned_release_passes_the_clusters_api(version: str, minor: int, cilium: bool, mode: str,
                                                       extra: tuple[str, ...]) -> None:
    helm = Helm(str(require_helm()))
    plan = resolve_plan(cluster_from_text(cluster(version, cilium=cilium, mode=mode, extra_apps=extra)),
                        load_catalog(ROOT), CatalogChartSource(ROOT))
    spec = load_api_spec(minor)
    problems = []
    kinds: set[str] = set()
    for release in plan.releases:
        objects = helm.template(ROOT / release.source, release.name, release.namespace, dict(release.values),
                                kube_version=spec.release, api_versions=spec.api_versions())
        kinds |= {f"{o['apiVersion']}/{o['kind']}" for o in objects}
        problems += [f"{release.name}: {f.message}" for f in check_objects(objects, spec)
                     if f.severity is not Severity.INFO]
    assert problems == []
    assert len(plan.releases) >= 3 and "apps/v1/DaemonSet" in kinds

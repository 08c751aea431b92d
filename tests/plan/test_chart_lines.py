"""Chart lines by Kubernetes version: a TKEStack 1.8 Cluster (Kubernetes 1.19-1.21) gets the app lines
that run there, the newest minor gets the newest lines, the plan says which line and why, a day-2
Kubernetes upgrade brings the app upgrades it needs, and a Cluster outside the matrix is refused."""

from __future__ import annotations

import pytest

from tests.plan.conftest import cluster_from_text
from tests.plan.test_day2 import state_of
from toolkit.adapters.chart_dirs import ChainedChartSource
from toolkit.core.catalog import Catalog
from toolkit.core.model import Action, ReleasePlan
from toolkit.core.plan import resolve_plan
from toolkit.errors import PlanRejected


def cluster(version: str, *, cilium: bool, mode: str = "overlay", extra_apps: tuple[str, ...] = ()) -> str:
    args = ("    networkMode: underlay\n    asn: \"65010\"\n    switch-ip: 192.168.10.1\n" if mode == "underlay"
            else "    networkMode: overlay\n")
    apps = "".join(f"    - app:\n        spec:\n          name: {name}\n          chart: {{chartName: {name}}}\n"
                   for name in extra_apps)
    return f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata:
  name: cls-lines
spec:
  type: Baremetal
  version: {version}
  clusterCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  networkArgs:
{args}  features:
    enableCilium: {str(cilium).lower()}
    containerRuntime: containerd
    enableMetricsServer: true
    skipConditions: []
  bootstrapApps:
{apps or "    []"}
"""


def versions(plan: ReleasePlan) -> dict[str, str]:
    return {r.name: r.version for r in plan.releases}


@pytest.mark.parametrize("mode", ["overlay", "underlay"])
def test_tkestack_1_21_with_cilium_gets_the_cilium_1_14_line(catalog: Catalog, charts: ChainedChartSource,
                                                            mode: str) -> None:
    plan = resolve_plan(cluster_from_text(cluster("1.21.4-tke.1", cilium=True, mode=mode)), catalog, charts)
    got = versions(plan)
    assert got["cilium"] == "0.0.16" and got["coredns"] == "0.1.2" and got["metrics-server"] == "0.0.6"
    cilium = plan.get("cilium")
    assert cilium is not None and cilium.source == "charts/platform/cilium@1.14"
    assert "admits Kubernetes 1.21.4" in cilium.chosen_because and "app 1.14.19" in cilium.chosen_because
    assert "0.1.3 needs >=1.28.0-0" in cilium.chosen_because
    if mode == "underlay":
        assert cilium.values["bgp"]["enabled"] is True and cilium.values["mode"] == "underlay"


def test_tkestack_1_19_with_galaxy_gets_the_old_coredns_and_metrics_server(catalog: Catalog,
                                                                          charts: ChainedChartSource) -> None:
    text = cluster("1.19.7", cilium=False, extra_apps=("galaxy-ipam", "prometheus"))
    got = versions(resolve_plan(cluster_from_text(text), catalog, charts))
    assert got == {**got, "galaxy": "0.1.1", "coredns": "0.0.9", "metrics-server": "0.0.6", "galaxy-ipam": "0.1.3",
                   "prometheus": "0.2.1"}


def test_the_newest_minor_gets_the_newest_lines(catalog: Catalog, charts: ChainedChartSource) -> None:
    got = versions(resolve_plan(cluster_from_text(cluster("1.36.3", cilium=True, extra_apps=("prometheus",))),
                                catalog, charts))
    assert got == {**got, "cilium": "0.1.3", "coredns": "0.1.2", "metrics-server": "0.1.2", "prometheus": "1.0.2"}


def test_a_kubernetes_upgrade_plans_the_app_upgrades_it_needs(catalog: Catalog, charts: ChainedChartSource) -> None:
    before = resolve_plan(cluster_from_text(cluster("1.21.4-tke.1", cilium=True)), catalog, charts)
    after = resolve_plan(cluster_from_text(cluster("1.30.2", cilium=True)), catalog, charts, state=state_of(before))
    changed = {r.name: (r.previous_version, r.version) for r in after.releases if r.action is Action.UPGRADE}
    assert changed == {"cilium": ("0.0.16", "0.1.3"), "metrics-server": ("0.0.6", "0.0.8"),
                       "containerd-config": ("0.2.1", "0.2.1")}  # systemd cgroups above TKEStack 1.8's versions
    containerd = next(r for r in after.releases if r.name == "containerd-config")
    assert containerd.changed_values == ("$.systemdCgroup",)
    reason = next(r.reason for r in after.releases if r.name == "cilium")
    assert "chart version 0.0.16 → 0.1.3" in reason and "admits Kubernetes 1.30.2" in reason


@pytest.mark.parametrize("version", ["1.18.20", "1.37.0", "2.0.0"])
def test_a_cluster_outside_the_matrix_names_the_supported_range(catalog: Catalog, charts: ChainedChartSource,
                                                                version: str) -> None:
    with pytest.raises(PlanRejected) as caught:
        resolve_plan(cluster_from_text(cluster(version, cilium=True)), catalog, charts)
    [finding] = [f for f in caught.value.findings if f.rule == "kube-version"]
    assert "outside the versions this catalog supports (1.19 to 1.36)" in finding.message
    assert finding.path == "$.spec.version"


def test_galaxy_ipam_is_refused_where_its_crd_api_is_gone(catalog: Catalog, charts: ChainedChartSource) -> None:
    with pytest.raises(PlanRejected) as caught:
        resolve_plan(cluster_from_text(cluster("1.22.17", cilium=False, extra_apps=("galaxy-ipam",))), catalog,
                     charts)
    [finding] = [f for f in caught.value.findings if f.rule == "kube-version"]
    assert "galaxy-ipam" in finding.message and ">=1.19.0-0 <1.22.0-0" in finding.message
    assert "apiextensions.k8s.io/v1beta1" in (finding.hint or "")


def test_an_explicit_chart_version_is_kept_and_checked(catalog: Catalog, charts: ChainedChartSource) -> None:
    text = cluster("1.21.4", cilium=True).replace(
        "  bootstrapApps:\n    []\n",
        "  bootstrapApps:\n    - app:\n        spec:\n          name: cilium\n"
        "          chart: {chartName: cilium, chartVersion: 0.1.3}\n")
    with pytest.raises(PlanRejected) as caught:
        resolve_plan(cluster_from_text(text), catalog, charts)
    [finding] = [f for f in caught.value.findings if f.rule == "kube-version"]
    assert "needs Kubernetes >=1.28.0-0" in finding.message and finding.path.endswith("chartVersion")




def test_an_extender_app_says_what_the_operator_must_do(catalog: Catalog, charts: ChainedChartSource) -> None:
    from toolkit.core.plan_render import plan_as_dict, render_table

    text = cluster("1.21.4-tke.1", cilium=False, extra_apps=("galaxy-ipam",))
    plan = resolve_plan(cluster_from_text(text), catalog, charts)
    table = render_table(plan)
    assert "operator: kube-scheduler must call galaxy-ipam's extender: run `tke-catalog scheduler-config" in table
    [ipam] = [r for r in plan_as_dict(plan)["releases"] if r["name"] == "galaxy-ipam"]
    assert "scheduler-config" in ipam["operatorStep"]
    assert {"path": "$.service.clusterIP", "value": "10.96.0.8"}.items() <= ipam["derivedFromCluster"][0].items()

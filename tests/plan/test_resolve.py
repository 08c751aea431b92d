"""Resolving Clusters into release plans: defaults, features, overrides, custom charts, errors."""

from __future__ import annotations

import pytest

from tests.plan.conftest import ROOT, FakeRegistry, cluster_from_text, load_cluster
from toolkit.actions.validate import parse_cluster_text
from toolkit.adapters.chart_dirs import ChainedChartSource
from toolkit.core.catalog import Catalog, check_catalog, parse_catalog
from toolkit.core.findings import Severity
from toolkit.core.model import Action
from toolkit.core.plan import check_plan, resolve_plan
from toolkit.errors import CatalogInvalid, PlanRejected


def names(plan: object) -> list[str]:
    return [r.name for r in plan.releases]  # type: ignore[attr-defined]


def rules(exc: PlanRejected) -> list[str]:
    return [f.rule for f in exc.findings if f.severity is Severity.ERROR]


def test_galaxy_is_the_default_cni(catalog: Catalog, charts: ChainedChartSource) -> None:
    plan = resolve_plan(load_cluster("galaxy-default.yaml"), catalog, charts)
    assert names(plan) == ["containerd-config", "galaxy", "coredns"]
    galaxy = plan.get("galaxy")
    assert galaxy is not None and galaxy.critical and galaxy.wave == 1
    assert galaxy.values["networkDevice"] == "eth1"
    assert galaxy.values["clusterCIDR"] == "172.16.0.0/16"
    assert galaxy.values["flannel"]["backendType"] == "vxlan"
    assert [r.wave for r in plan.releases] == [0, 1, 2]
    assert all(r.action is Action.INSTALL for r in plan.releases)


def test_cilium_overlay(catalog: Catalog, charts: ChainedChartSource) -> None:
    plan = resolve_plan(load_cluster("cilium-overlay.yaml"), catalog, charts)
    assert names(plan) == ["containerd-config", "cilium", "coredns", "metrics-server"]
    cilium = plan.get("cilium")
    assert cilium is not None
    assert cilium.values["mode"] == "overlay" and cilium.values["tunnelProtocol"] == "vxlan"
    assert cilium.values["ipam"] == {"mode": "kubernetes", "clusterPoolIPv4PodCIDR": "10.200.0.0/16",
                                     "clusterPoolIPv4MaskSize": 24}
    assert cilium.values["clusterName"] == "cls-overlay"
    assert cilium.values["bgp"]["enabled"] is False
    assert plan.get("coredns").values["clusterDomain"] == "corp.local"  # type: ignore[union-attr]
    assert cilium.provenance[("mode",)] == "cluster features"


def test_cilium_underlay_with_bgp(catalog: Catalog, charts: ChainedChartSource) -> None:
    plan = resolve_plan(load_cluster("cilium-underlay.yaml"), catalog, charts)
    cilium = plan.get("cilium")
    assert cilium is not None
    assert cilium.values["mode"] == "underlay"
    assert cilium.values["nativeRoutingCIDR"] == "10.100.0.0/16"
    assert cilium.values["ipam"]["mode"] == "cluster-pool"
    assert cilium.values["bgp"]["enabled"] is True
    assert cilium.values["bgp"]["asn"] == 64600 and cilium.values["bgp"]["switchIP"] == "10.0.0.1"


def test_containerd_config_only_with_containerd(catalog: Catalog, charts: ChainedChartSource) -> None:
    text = (ROOT / "tests/fixtures/clusters/cilium-overlay.yaml").read_text()
    plan = resolve_plan(cluster_from_text(text), catalog, charts)
    assert "containerd-config" in names(plan)
    cluster = cluster_from_text(text.replace("containerRuntime: containerd", "containerRuntime: docker")
                                .replace("1.30.2", "1.23.5"))
    plan, findings = check_plan(cluster, catalog, charts)
    # the platform charts need Kubernetes >= 1.24, so a 1.23 plan fails, but not because of docker
    assert not any(f.rule == "runtime-docker" and f.severity is Severity.ERROR for f in findings)
    assert any(f.rule == "runtime-docker" and f.severity is Severity.WARNING for f in findings)
    assert not any("containerd-config" in f.message for f in findings)


def test_docker_on_1_21_is_accepted_with_a_warning(catalog: Catalog, charts: ChainedChartSource) -> None:
    _, findings = check_plan(load_cluster("docker-1.21.4.yaml"), catalog, charts)
    docker = [f for f in findings if f.rule == "runtime-docker"]
    assert [f.severity for f in docker] == [Severity.WARNING]
    assert "1.24" in docker[0].message and "containerd" in (docker[0].hint or "")


def test_docker_on_1_30_is_rejected_with_the_reason_and_the_fix(catalog: Catalog, charts: ChainedChartSource) -> None:
    with pytest.raises(PlanRejected) as info:
        resolve_plan(load_cluster("docker-1.30.2.yaml"), catalog, charts)
    finding = next(f for f in info.value.findings if f.rule == "runtime-docker")
    assert finding.severity is Severity.ERROR
    assert "dockershim" in finding.message and "1.24" in finding.message
    assert "containerd" in (finding.hint or "") and "cri-dockerd" in (finding.hint or "")
    assert finding.path == "$.spec.features.containerRuntime" and finding.line == 8


def test_absent_runtime_follows_the_version(catalog: Catalog, charts: ChainedChartSource) -> None:
    text = "apiVersion: platform.tkestack.io/v1\nkind: Cluster\nmetadata: {name: c}\nspec: {version: 1.29.1}\n"
    plan, findings = check_plan(cluster_from_text(text), catalog, charts)
    assert plan is not None and "containerd-config" in names(plan)
    assert any(f.rule == "runtime-default" for f in findings)


def test_trimming_a_default(catalog: Catalog, charts: ChainedChartSource) -> None:
    plan = resolve_plan(load_cluster("trim-default.yaml"), catalog, charts)
    assert "metrics-server" not in names(plan)


def test_trimming_an_unknown_app_suggests_the_name(catalog: Catalog, charts: ChainedChartSource) -> None:
    text = (ROOT / "tests/fixtures/clusters/trim-default.yaml").read_text().replace("[metrics-server]", "[metrics-srv]")
    with pytest.raises(PlanRejected) as info:
        resolve_plan(cluster_from_text(text), catalog, charts)
    assert info.value.findings[0].hint == "did you mean `metrics-server`?"


def test_overriding_values_plain_base64_and_set(catalog: Catalog, charts: ChainedChartSource) -> None:
    cluster = load_cluster("override-values.yaml")
    assert [a.raw_values_encoding for a in cluster.apps] == ["plain", "base64"]
    plan = resolve_plan(cluster, catalog, charts)
    coredns = plan.get("coredns")
    metrics = plan.get("metrics-server")
    assert coredns is not None and metrics is not None
    assert coredns.values["replicas"] == 4 and coredns.provenance[("replicas",)] == "values[]"
    assert coredns.values["cacheTTL"] == 60 and coredns.provenance[("cacheTTL",)] == "rawValues"
    assert coredns.values["clusterDomain"] == "corp.local"
    assert metrics.values["replicas"] == 2 and metrics.values["kubeletInsecureTLS"] is True


def test_invalid_values_name_release_path_and_layer(catalog: Catalog, charts: ChainedChartSource) -> None:
    with pytest.raises(PlanRejected) as info:
        resolve_plan(load_cluster("bad-values.yaml"), catalog, charts)
    found = {(f.path, f.line): f.message for f in info.value.findings}
    assert "release `coredns`" in found[("$.replicas", 15)] and "(set by rawValues)" in found[("$.replicas", 15)]
    assert "(set by values[])" in found[("$.cacheTTL", 17)]


def test_custom_chart_with_a_version_range(catalog: Catalog, charts: ChainedChartSource,
                                           registry: FakeRegistry) -> None:
    plan = resolve_plan(load_cluster("custom-chart.yaml"), catalog, charts)
    shop = plan.get("shop")
    assert shop is not None
    assert shop.version == "1.2.5" and shop.namespace == "shop" and shop.depends_on == ("coredns",)
    assert shop.wave > plan.get("coredns").wave  # type: ignore[union-attr]
    assert shop.values == {"replicas": 2, "database": {"host": "db"}}
    assert registry.loaded == [("shop", "1.2.5")]


def test_a_range_nothing_satisfies(catalog: Catalog, registry: FakeRegistry) -> None:
    text = (ROOT / "tests/fixtures/clusters/custom-chart.yaml").read_text().replace('"~1.2"', '">=3.0.0"')
    with pytest.raises(PlanRejected) as info:
        resolve_plan(cluster_from_text(text), catalog, ChainedChartSource([registry]))
    finding = next(f for f in info.value.findings if f.rule == "chart-version")
    assert ">=3.0.0" in finding.message and "2.0.0" in finding.message
    assert finding.path.endswith("chart.chartVersion")


def test_a_dependency_cycle_is_named(catalog: Catalog, charts: ChainedChartSource) -> None:
    with pytest.raises(PlanRejected) as info:
        resolve_plan(load_cluster("cycle.yaml"), catalog, charts)
    assert "cron-hpa -> tapp-controller -> cron-hpa" in info.value.findings[0].message


def test_unknown_app_did_you_mean(catalog: Catalog, charts: ChainedChartSource) -> None:
    with pytest.raises(PlanRejected) as info:
        resolve_plan(load_cluster("unknown-app.yaml"), catalog, charts)
    finding = info.value.findings[0]
    assert finding.rule == "unknown-app" and "did you mean `metrics-server`?" in (finding.hint or "")
    assert finding.line == 13


def test_both_cnis(catalog: Catalog, charts: ChainedChartSource) -> None:
    with pytest.raises(PlanRejected) as info:
        resolve_plan(load_cluster("both-cnis.yaml"), catalog, charts)
    assert rules(info.value) == ["conflict"]
    assert "enableCilium" in (info.value.findings[0].hint or "")


def test_dependency_on_a_disabled_or_absent_app(catalog: Catalog, charts: ChainedChartSource) -> None:
    base = (ROOT / "tests/fixtures/clusters/cilium-overlay.yaml").read_text()
    ipam = "\n  bootstrapApps:\n    - app:\n        spec:\n          name: galaxy-ipam\n          chart: {chartName: galaxy-ipam}\n"
    with pytest.raises(PlanRejected) as info:
        resolve_plan(cluster_from_text(base + ipam), catalog, charts)
    assert "depends on `galaxy`" in info.value.findings[0].message
    extra = ("          dependsOn: [coredns]\n")
    disabled = base.replace("enableMetricsServer: true", "enableMetricsServer: true\n    disabledApps: [coredns]")
    text = disabled + ipam.replace("galaxy-ipam", "cron-hpa") + extra
    with pytest.raises(PlanRejected) as info:
        resolve_plan(cluster_from_text(text), catalog, charts)
    assert "disabledApps removes" in info.value.findings[0].message
    with pytest.raises(PlanRejected) as info:
        resolve_plan(cluster_from_text(base + ipam.replace("galaxy-ipam", "cron-hpa") + "          dependsOn: [coredsn]\n"),
                     catalog, charts)
    assert info.value.findings[0].hint == "did you mean `coredns`?"


def test_misspelled_field_and_wrong_type_are_reported_together() -> None:
    parsed = parse_cluster_text((ROOT / "tests/fixtures/clusters/misspelled-field.yaml").read_text(), "c.yaml", ROOT)
    assert parsed.cluster is None
    by_path = {f.path: f for f in parsed.findings}
    assert by_path["$.spec.features.enableCillium"].hint == "did you mean `enableCilium`?"
    assert by_path["$.spec.features.enableCillium"].line == 8
    assert by_path["$.spec.networkArgs.asn"].message.startswith("expected string")


def test_rawvalues_that_are_not_a_mapping() -> None:
    text = (ROOT / "tests/fixtures/clusters/custom-chart.yaml").read_text().replace("replicas: 2", "- just a list")
    parsed = parse_cluster_text(text, "c.yaml", ROOT)
    assert parsed.findings and parsed.findings[0].rule == "cluster-values"


def test_tkestack_object_with_status_and_metadata_is_accepted() -> None:
    text = (ROOT / "examples/cluster.yaml").read_text().replace(
        "metadata:\n  name: cls-demo\n",
        "metadata:\n  name: cls-demo\n  uid: abc\n  resourceVersion: '12'\n  creationTimestamp: '2021-01-01T00:00:00Z'\n")
    text += "status:\n  phase: Running\n  version: 1.30.2\n"
    assert parse_cluster_text(text, "c.yaml", ROOT).cluster is not None


def test_catalog_checks() -> None:
    data = {"apiVersion": "tke-catalog/v1", "kind": "Catalog", "apps": [
        {"name": "a", "chart": "charts/a", "category": "addon", "namespace": "x", "dependsOn": ["b"]},
        {"name": "b", "chart": "charts/b", "category": "addon", "namespace": "x", "dependsOn": ["a"],
         "conflictsWith": ["cc"]},
        {"name": "c", "chart": "charts/c", "category": "addon", "namespace": "x", "release": "a"},
        {"name": "a", "chart": "charts/a", "category": "addon", "namespace": "y"},
    ]}
    found = check_catalog(parse_catalog(data, "catalog.yaml"))
    text = "\n".join(f.message for f in found)
    assert "listed twice" in text and "release `a`" in text and "unknown app `cc`" in text
    assert "cycle: a -> b -> a" in text


def test_catalog_schema_errors_are_all_reported() -> None:
    from tests.plan.conftest import ROOT as root
    from toolkit.adapters.project import load_schema

    data = {"apiVersion": "tke-catalog/v1", "kind": "Catalog",
            "apps": [{"name": "a", "chart": "charts/a", "category": "addon", "namespace": "x", "tire": "node"},
                     {"name": "B", "chart": "charts/b", "category": "addon", "namespace": "x"}]}
    with pytest.raises(CatalogInvalid) as info:
        parse_catalog(data, "catalog.yaml", schema=load_schema(root, "catalog.schema.json"))
    assert len(info.value.findings) == 2
    assert any(f.hint == "did you mean `tier`?" for f in info.value.findings)


def test_the_shipped_catalog_is_clean(catalog: Catalog) -> None:
    assert check_catalog(catalog) == []
    for app in catalog.apps:
        assert (ROOT / app.chart).is_dir(), app.chart

"""Live facts against the Cluster file and the charts' needs, pure: the kernel a Cilium line needs, the
runtime the nodes really run, the API server's version."""

from __future__ import annotations

from tests.plan.conftest import cluster_from_text
from tests.plan.test_chart_lines import cluster
from toolkit.adapters.chart_dirs import ChainedChartSource
from toolkit.core.catalog import Catalog
from toolkit.core.findings import Severity
from toolkit.core.live_facts import NodeFacts, kernel_tuple, live_findings
from toolkit.core.plan import resolve_plan


def test_kernel_versions_are_read_as_kubelets_report_them() -> None:
    assert kernel_tuple("3.10.0-1160.el7.x86_64") == (3, 10, 0)
    assert kernel_tuple("5.15.0-91-generic") == (5, 15, 0)
    assert kernel_tuple("6.1") == (6, 1, 0)
    assert kernel_tuple("unknown") is None


def test_a_kernel_too_old_for_the_chosen_cilium_line_is_refused(catalog: Catalog,
                                                                 charts: ChainedChartSource) -> None:
    parsed = cluster_from_text(cluster("1.21.4-tke.1", cilium=True))
    plan = resolve_plan(parsed, catalog, charts)
    nodes = [NodeFacts("node-a", "3.10.0-1160.el7.x86_64", "containerd://1.5.4"),
             NodeFacts("node-b", "5.4.0-150-generic", "containerd://1.5.4")]
    [error] = [f for f in live_findings(parsed, plan, nodes, "v1.21.4") if f.severity is Severity.ERROR]
    assert error.rule == "live-kernel" and "node-a" in error.message and "node-b" not in error.message
    assert "cilium 0.0.16 needs Linux 4.19.57" in error.message
    newer = resolve_plan(cluster_from_text(cluster("1.30.2", cilium=True)), catalog, charts)
    # the 1.18 line needs 5.10: node-b's 5.4 is too old there
    [error] = [f for f in live_findings(parsed, newer, nodes, "v1.30.2") if f.severity is Severity.ERROR]
    assert "needs Linux 5.10" in error.message and "node-a, node-b" in error.message
    assert live_findings(parsed, plan, nodes[1:], "v1.21.4") == []


def test_the_nodes_runtime_and_the_servers_version_are_warned_about(catalog: Catalog,
                                                                    charts: ChainedChartSource) -> None:
    parsed = cluster_from_text(cluster("1.21.4-tke.1", cilium=False))
    plan = resolve_plan(parsed, catalog, charts)
    found = live_findings(parsed, plan, [NodeFacts("n1", "5.4.0", "docker://19.3.14")], "v1.30.2")
    assert {f.rule for f in found} == {"live-runtime", "live-version"}
    assert all(f.severity is Severity.WARNING for f in found)
    runtime = next(f for f in found if f.rule == "live-runtime")
    assert "containerRuntime is `containerd` but node(s) n1 run docker" in runtime.message


def test_containerd_config_is_held_against_the_nodes_containerd(catalog: Catalog,
                                                               charts: ChainedChartSource) -> None:
    parsed = cluster_from_text(cluster("1.30.2", cilium=False, extra_apps=()))
    plan = resolve_plan(parsed, catalog, charts)
    assert any(r.app == "containerd-config" for r in plan.releases)

    def found(*runtimes: str) -> list[tuple[Severity, str]]:
        nodes = [NodeFacts(f"n{i}", "6.1.0", runtime) for i, runtime in enumerate(runtimes)]
        return [(f.severity, f.message) for f in live_findings(parsed, plan, nodes, "v1.30.2") if f.rule == "live-containerd"]

    assert found("containerd://1.7.2", "containerd://1.6.20") == []  # the default renders version 2
    [(severity, message)] = found("containerd://2.1.4", "containerd://2.0.1")
    assert severity is Severity.WARNING and "containerd 2.0 or newer" in message
    [(severity, message)] = found("containerd://1.7.11-k3s2")
    assert severity is Severity.ERROR and "k3s/RKE2" in message


def test_a_config_format_older_nodes_cannot_read_is_refused(catalog: Catalog, charts: ChainedChartSource) -> None:
    text = cluster("1.30.2", cilium=False).replace(
        "  bootstrapApps:\n    []\n",
        "  bootstrapApps:\n    - app:\n        spec:\n          name: containerd-config\n"
        "          chart: {chartName: containerd-config}\n          values: {rawValues: 'containerdVersion: \"2.4\"'}\n")
    parsed = cluster_from_text(text)
    plan = resolve_plan(parsed, catalog, charts)
    nodes = [NodeFacts("old", "6.1.0", "containerd://2.2.1"), NodeFacts("new", "6.1.0", "containerd://2.4.2")]
    [error] = [f for f in live_findings(parsed, plan, nodes, "v1.30.2") if f.rule == "live-containerd"]
    assert error.severity is Severity.ERROR
    assert "renders config version 4, which containerd 2.2 on node old cannot read" in error.message
    assert 'containerdVersion to "2.2"' in (error.hint or "")

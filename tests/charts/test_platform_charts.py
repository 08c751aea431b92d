"""The platform charts under charts/platform, checked with the real helm as the oracle: lint, schema,
and the settings a planner derives from a Cluster reaching the rendered objects."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from tests.support.registry_fixtures import require_helm
from toolkit.core.chart_choice import admits
from toolkit.core.matrix import KUBERNETES_MINORS

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "charts" / "platform"
CHARTS = ["cilium", "galaxy", "galaxy-ipam", "containerd-config", "coredns", "metrics-server",
          # older lines of a chart (`NAME@LINE` folders) get the same checks
          "cilium@1.14", "coredns@1.8", "metrics-server@0.7", "metrics-server@0.5"]
VARIANTS = [
    pytest.param(chart, values, id=f"{chart}:{values.name if values else 'default'}")
    for chart in CHARTS
    for values in [None, *sorted((PLATFORM / chart / "ci").glob("*-values.yaml"))]
]
WORKLOAD_KINDS = {"Deployment", "DaemonSet", "StatefulSet", "Job"}
REQUIRED_LABELS = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart"}


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Run the real helm with throw-away cache/config/data homes; returns a runner."""
    executable = require_helm()
    home = tmp_path_factory.mktemp("helm-home")
    env = {
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "PATH": "/usr/bin:/bin",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - argv is ours
            [str(executable), *args], capture_output=True, text=True, env=env, timeout=120, check=False,
        )

    return run


def kube_version(chart: str) -> str:
    """The newest supported Kubernetes minor the chart's kubeVersion admits (helm's own default is newer
    than some lines admit)."""
    kube = load_values(PLATFORM / chart / "Chart.yaml").get("kubeVersion")
    return next(f"1.{m}.0" for m in reversed(KUBERNETES_MINORS) if admits(kube, (1, m, 0)))


def source_schema(chart: str) -> Path:
    """schemas/charts/NAME.schema.json, shared by every line of chart NAME."""
    return ROOT / "schemas" / "charts" / f"{chart.split('@', 1)[0]}.schema.json"


def render(helm: Any, chart: str, *args: str, kube: str | None = None) -> list[dict[str, Any]]:
    """`helm template` the chart into kube-system (for `kube`, else a Kubernetes it admits) and parse every document."""
    result = helm("template", chart.split("@", 1)[0], str(PLATFORM / chart), "--namespace", "kube-system",
                  "--kube-version", kube or kube_version(chart), *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in YAML(typ="safe").load_all(result.stdout) if doc]


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, got {[(d['kind'], d['metadata']['name']) for d in docs]}"
    return matches[0]


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def load_values(path: Path) -> Any:
    """Values as helm reads them: YAML 1.1."""
    yaml = YAML(typ="safe")
    yaml.version = (1, 1)
    return yaml.load(path.read_text())


# --- schema files: no helm needed ---------------------------------------------------------------

@pytest.mark.parametrize("chart", CHARTS)
def test_chart_schema_is_a_byte_identical_copy_of_the_source(chart: str) -> None:
    source = source_schema(chart)
    assert (PLATFORM / chart / "values.schema.json").read_bytes() == source.read_bytes()


@pytest.mark.parametrize(("chart", "values"), VARIANTS)
def test_defaults_and_ci_variants_validate_with_python_jsonschema(chart: str, values: Path | None) -> None:
    schema = json.loads(source_schema(chart).read_text())
    Draft202012Validator.check_schema(schema)
    merged = load_values(PLATFORM / chart / "values.yaml")
    if values is not None:
        merged = _merge(merged, load_values(values))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(merged)]
    assert errors == []


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in override.items()}}
    return override


# --- helm lint and template ---------------------------------------------------------------------

@pytest.mark.helm
@pytest.mark.parametrize(("chart", "values"), VARIANTS)
def test_helm_lint_strict_passes(helm: Any, chart: str, values: Path | None) -> None:
    args = ["lint", "--strict", str(PLATFORM / chart)]
    if values is not None:
        args += ["--values", str(values)]
    result = helm(*args)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.helm
@pytest.mark.parametrize("chart", CHARTS)
def test_global_image_registry_moves_every_image_and_every_container_has_requests(helm: Any, chart: str) -> None:
    docs = render(helm, chart, "--set", "global.imageRegistry=reg.local")
    workloads = [d for d in docs if d["kind"] in WORKLOAD_KINDS]
    assert workloads
    for doc in docs:
        assert REQUIRED_LABELS <= set(doc["metadata"].get("labels", {})), f"{doc['kind']}/{doc['metadata']['name']}"
    for workload in workloads:
        for container in containers(workload):
            assert container["image"].startswith("reg.local/"), container["image"]
            assert not container["image"].endswith(":latest")
            assert container["resources"]["requests"], f"{workload['metadata']['name']}/{container['name']}"


CILIUM_LINES = ["cilium", "cilium@1.14"]


@pytest.mark.helm
@pytest.mark.parametrize("line", CILIUM_LINES)
@pytest.mark.parametrize(
    ("values", "protocol"), [("overlay-values.yaml", "vxlan"), ("overlay-geneve-values.yaml", "geneve")],
)
def test_cilium_overlay_tunnels_and_masquerades(helm: Any, line: str, values: str, protocol: str) -> None:
    docs = render(helm, line, "-f", str(PLATFORM / line / "ci" / values))
    config = find(docs, "ConfigMap", "cilium-config")["data"]
    assert "tunnel" not in config  # Cilium 1.14 refuses `tunnel` next to routing-mode; 1.15 removed it
    assert config["routing-mode"] == "tunnel"
    assert config["tunnel-protocol"] == protocol
    assert config["enable-ipv4-masquerade"] == "true"
    assert "ipv4-native-routing-cidr" not in config
    assert config["identity-allocation-mode"] == "crd"
    assert (config["enable-ipv4"], config["enable-ipv6"], config["enable-hubble"]) == ("true", "false", "true")


@pytest.mark.helm
@pytest.mark.parametrize("line", CILIUM_LINES)
def test_cilium_cluster_pool_ipam_takes_the_pod_cidr(helm: Any, line: str) -> None:
    docs = render(helm, line, "-f", str(PLATFORM / line / "ci/overlay-geneve-values.yaml"))
    config = find(docs, "ConfigMap", "cilium-config")["data"]
    assert (config["ipam"], config["cluster-pool-ipv4-cidr"]) == ("cluster-pool", "172.16.0.0/16")
    assert config["cluster-name"] == "cls-geneve"


@pytest.mark.helm
@pytest.mark.parametrize("line", CILIUM_LINES)
def test_cilium_underlay_routes_natively_and_masquerades_beyond_the_cluster(helm: Any, line: str) -> None:
    docs = render(helm, line, "-f", str(PLATFORM / line / "ci/underlay-values.yaml"),
                  "--set", "nativeRoutingCIDR=10.200.0.0/16")
    config = find(docs, "ConfigMap", "cilium-config")["data"]
    assert config["routing-mode"] == "native"
    assert config["ipv4-native-routing-cidr"] == "10.200.0.0/16"
    # Cilium masquerades only what leaves ipv4-native-routing-cidr: TKEStack's ip-masq-agent rule
    assert config["enable-ipv4-masquerade"] == "true"
    assert config["enable-endpoint-routes"] == "true"
    assert config["enable-bgp-control-plane"] == "true"
    assert "tunnel-protocol" not in config
    # BGP objects need Cilium's CRDs: off unless asked for, so a bare API server accepts the release.
    assert not [d for d in docs if d["apiVersion"].startswith("cilium.io/")]
    routed = render(helm, line, "-f", str(PLATFORM / line / "ci/underlay-values.yaml"),
                    "--set", "masqueradeOutsideCluster=false")
    assert find(routed, "ConfigMap", "cilium-config")["data"]["enable-ipv4-masquerade"] == "false"


@pytest.mark.helm
@pytest.mark.parametrize("line", CILIUM_LINES)
def test_kube_proxy_replacement_talks_to_the_api_server_itself(helm: Any, line: str) -> None:
    docs = render(helm, line, "--set", "kubeProxyReplacement=true", "--set", "k8sServiceHost=10.0.0.100",
                  "--set", "k8sServicePort=8443")
    config = find(docs, "ConfigMap", "cilium-config")["data"]
    assert (config["k8s-service-host"], config["k8s-service-port"]) == ("10.0.0.100", "8443")
    for kind in ("DaemonSet", "Deployment"):
        workload = next(d for d in docs if d["kind"] == kind)
        env = {e["name"]: e.get("value") for e in workload["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]) == ("10.0.0.100", "8443")


@pytest.mark.helm
def test_cilium_bgp_resources_peer_with_the_switch_when_asked(helm: Any) -> None:
    docs = render(helm, "cilium", "-f", str(PLATFORM / "cilium/ci/underlay-values.yaml"),
                  "--set", "bgp.createResources=true")
    cluster_config = next(d for d in docs if d["kind"] == "CiliumBGPClusterConfig")
    instance = cluster_config["spec"]["bgpInstances"][0]
    assert instance["localASN"] == 65010
    assert instance["peers"][0]["peerAddress"] == "192.168.10.1"
    assert instance["peers"][0]["peerASN"] == 65000


@pytest.mark.helm
def test_cilium_1_14_peers_through_a_bgp_peering_policy(helm: Any) -> None:
    """Cilium 1.14's BGP API is CiliumBGPPeeringPolicy (cilium.io/v2alpha1), peerAddress a CIDR."""
    docs = render(helm, "cilium@1.14", "-f", str(PLATFORM / "cilium@1.14/ci/underlay-values.yaml"),
                  "--set", "bgp.createResources=true", "--set", "bgp.nodeSelector.bgp=on")
    (policy,) = [d for d in docs if d["apiVersion"].startswith("cilium.io/")]
    assert (policy["apiVersion"], policy["kind"]) == ("cilium.io/v2alpha1", "CiliumBGPPeeringPolicy")
    assert policy["spec"]["nodeSelector"] == {"matchLabels": {"bgp": "on"}}
    (router,) = policy["spec"]["virtualRouters"]
    assert (router["localASN"], router["exportPodCIDR"]) == (65010, True)
    assert router["neighbors"] == [{"peerAddress": "192.168.10.1/32", "peerASN": 65000}]


@pytest.mark.helm
def test_cilium_1_14_names_its_own_resources_and_probes_as_its_chart_does(helm: Any) -> None:
    old = render(helm, "cilium@1.14", kube="1.19.16")
    for role in (d for d in old if d["kind"] == "ClusterRole"):
        for rule in role["rules"]:
            assert "*" not in rule.get("resources", []), role["metadata"]["name"]
    agent_role = next(d for d in old if d["kind"] == "ClusterRole" and d["metadata"]["name"].endswith("-agent"))
    assert "ciliumbgppeeringpolicies" in {r for rule in agent_role["rules"] for r in rule["resources"]}
    agent = containers(find(old, "DaemonSet", "cilium-agent"))[-1]
    assert "startupProbe" not in agent and agent["livenessProbe"]["initialDelaySeconds"] == 120  # startupProbe: GA in 1.20
    agent = containers(find(render(helm, "cilium@1.14", kube="1.27.16"), "DaemonSet", "cilium-agent"))[-1]
    assert "startupProbe" in agent and "initialDelaySeconds" not in agent["livenessProbe"]
    assert agent["image"] == "quay.io/cilium/cilium:v1.14.19"


@pytest.mark.helm
def test_cilium_underlay_without_native_routing_cidr_fails_clearly(helm: Any) -> None:
    result = helm("template", "cilium", str(PLATFORM / "cilium"), "--set", "mode=underlay")
    assert result.returncode != 0
    assert "nativeRoutingCIDR" in result.stderr


@pytest.mark.helm
def test_schema_rejects_an_unknown_mode_naming_the_key(helm: Any) -> None:
    result = helm("template", "cilium", str(PLATFORM / "cilium"), "--set", "mode=bridged")
    assert result.returncode != 0
    assert "schema" in result.stderr and "/mode" in result.stderr, result.stderr


@pytest.mark.helm
@pytest.mark.parametrize(
    ("values", "backend", "network", "device"),
    [("vxlan-values.yaml", "vxlan", "10.244.0.0/16", "eth0"), ("host-gw-values.yaml", "host-gw", "172.20.0.0/16", "ens192")],
)
def test_galaxy_flannel_net_conf_follows_the_cluster(helm: Any, values: str, backend: str, network: str, device: str) -> None:
    docs = render(helm, "galaxy", "-f", str(PLATFORM / "galaxy/ci" / values))
    net_conf = json.loads(find(docs, "ConfigMap", "kube-flannel-cfg")["data"]["net-conf.json"])
    assert net_conf == {"Network": network, "Backend": {"Type": backend}}
    flannel = next(d for d in docs if d["kind"] == "DaemonSet" and "flannel" in d["metadata"]["name"])
    args = containers(flannel)[0]["args"]
    assert {"--ip-masq", "--kube-subnet-mgr", f"--iface={device}"} <= set(args)
    galaxy = json.loads(find(docs, "ConfigMap", "galaxy-etc")["data"]["galaxy.json"])
    assert galaxy["DefaultNetworks"] == ["galaxy-flannel"]
    assert [n["type"] for n in galaxy["NetworkConf"]] == ["galaxy-flannel", "galaxy-k8s-vlan", "galaxy-k8s-sriov"]
    assert json.loads(find(docs, "ConfigMap", "cni-etc")["data"]["00-galaxy.conf"])["type"] == "galaxy-sdn"


@pytest.mark.helm
def test_galaxy_ipam_renders_floating_ips_as_json(helm: Any) -> None:
    values = PLATFORM / "galaxy-ipam/ci/floatingips-values.yaml"
    docs = render(helm, "galaxy-ipam", "-f", str(values))
    rendered = json.loads(find(docs, "ConfigMap", "floatingip-config")["data"]["floatingips"])
    assert rendered == load_values(values)["floatingIPs"]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    args = containers(deployment)[0]["args"]
    assert {"--config=/etc/galaxy/galaxy-ipam.json", "--port=9040", "--api-port=9041", "--leader-elect"} <= set(args)


@pytest.mark.helm
def test_galaxy_ipam_schema_rejects_an_entry_without_node_subnets(helm: Any) -> None:
    result = helm("template", "galaxy-ipam", str(PLATFORM / "galaxy-ipam"), "--kube-version", kube_version("galaxy-ipam"),
                  "--set-json", 'floatingIPs=[{"ips":["10.0.0.2~10.0.0.9"],"subnet":"10.0.0.0/24","gateway":"10.0.0.1"}]')
    assert result.returncode != 0
    assert "/floatingIPs/0" in result.stderr, result.stderr


@pytest.mark.helm
def test_coredns_takes_the_cluster_domain_and_service_ip(helm: Any) -> None:
    docs = render(helm, "coredns", "--set", "clusterDomain=tke.internal", "--set", "service.clusterIP=10.96.0.10")
    corefile = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["Corefile"]
    assert "kubernetes tke.internal in-addr.arpa ip6.arpa" in corefile
    assert find(docs, "Service", "kube-dns")["spec"]["clusterIP"] == "10.96.0.10"


@pytest.mark.helm
def test_coredns_leaves_the_service_ip_to_kubernetes_by_default(helm: Any) -> None:
    assert "clusterIP" not in find(render(helm, "coredns"), "Service", "kube-dns")["spec"]


@pytest.mark.helm
def test_coredns_1_8_reads_endpoints_with_the_same_corefile(helm: Any) -> None:
    """CoreDNS 1.8.0 watches core Endpoints (EndpointSlices came in 1.8.1): no discovery.k8s.io rule."""
    old, new = render(helm, "coredns@1.8"), render(helm, "coredns")
    role = next(d for d in old if d["kind"] == "ClusterRole")
    assert {g for rule in role["rules"] for g in rule["apiGroups"]} == {""}
    assert find(old, "ConfigMap", "coredns")["data"]["Corefile"] == find(new, "ConfigMap", "coredns")["data"]["Corefile"]
    assert containers(find(old, "Deployment", "coredns"))[0]["image"] == "registry.k8s.io/coredns/coredns:v1.8.0"


@pytest.mark.helm
def test_metrics_server_0_5_reads_the_kubelet_summary_api(helm: Any) -> None:
    role = next(d for d in render(helm, "metrics-server@0.5") if d["kind"] == "ClusterRole"
                and not d["metadata"]["name"].endswith("aggregated-reader"))
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert "nodes/stats" in resources and "nodes/metrics" not in resources  # /stats/summary until 0.6


@pytest.mark.helm
@pytest.mark.parametrize("line", ["metrics-server", "metrics-server@0.7", "metrics-server@0.5"])
def test_metrics_server_registers_its_api_service(helm: Any, line: str) -> None:
    docs = render(helm, line)
    api_service = find(docs, "APIService", "v1beta1.metrics.k8s.io")
    service = next(d for d in docs if d["kind"] == "Service")
    assert api_service["spec"]["service"] == {"name": service["metadata"]["name"], "namespace": "kube-system", "port": 443}

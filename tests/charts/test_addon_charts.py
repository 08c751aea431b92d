"""The addon charts in charts/addons/, checked with the real helm CLI as the oracle.

One helm call per case: `helm lint --strict` for every chart and ci variant, `helm template` for the
rendered-object checks, and a deliberate schema violation that helm must reject.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support.registry_fixtures import require_helm
from toolkit.core.chart_choice import admits
from toolkit.core.matrix import KUBERNETES_MINORS

pytestmark = pytest.mark.helm

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ROOT / "charts" / "addons"
ADDON_NAMES = [
    "cron-hpa", "tapp-controller", "persistent-event", "log-collector", "lbcf",
    "volume-decorator", "csi-operator", "nvidia-device-plugin", "gpu-manager", "prometheus",
]
LINES = ["prometheus@2"]  # older lines of a chart (`NAME@LINE` folders): the same checks
FOLDERS = [*ADDON_NAMES, *LINES]
WORKLOAD_KINDS = {"Deployment", "DaemonSet", "StatefulSet"}


def _cases() -> list[Any]:
    cases = []
    for name in FOLDERS:
        cases.append(pytest.param(name, None, id=f"{name}-defaults"))
        for variant in sorted((ADDONS / name / "ci").glob("*-values.yaml")):
            cases.append(pytest.param(name, variant.name, id=f"{name}-{variant.stem}"))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    require_helm()
    home = tmp_path_factory.mktemp("helm-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
    env.update(HELM_CACHE_HOME=str(home / "cache"), HELM_CONFIG_HOME=str(home / "config"),
               HELM_DATA_HOME=str(home / "data"))
    return env


def _helm(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(require_helm()), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def _values_args(chart: str, variant: str | None) -> list[str]:
    return ["-f", str(ADDONS / chart / "ci" / variant)] if variant else []


def _kube_version(chart: str) -> str:
    """The newest supported Kubernetes minor the chart's kubeVersion admits (helm's own default is newer
    than some lines admit)."""
    kube = YAML(typ="safe").load((ADDONS / chart / "Chart.yaml").read_text()).get("kubeVersion")
    return next(f"1.{m}.0" for m in reversed(KUBERNETES_MINORS) if admits(kube, (1, m, 0)))


def _render(env: dict[str, str], chart: str, *extra: str) -> list[dict[str, Any]]:
    result = _helm(env, "template", "rel", str(ADDONS / chart), "--namespace", "kube-system",
                   "--kube-version", _kube_version(chart), *extra)
    assert result.returncode == 0, result.stderr
    return [doc for doc in YAML(typ="safe").load_all(result.stdout) if doc]


def _containers(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in objects:
        if obj["kind"] in WORKLOAD_KINDS:
            spec = obj["spec"]["template"]["spec"]
            for container in spec.get("initContainers", []) + spec["containers"]:
                yield f'{obj["kind"]}/{obj["metadata"]["name"]}/{container["name"]}', container


def test_every_addon_chart_has_ci_variants() -> None:
    assert sorted(p.name for p in ADDONS.iterdir() if (p / "Chart.yaml").is_file()) == sorted(FOLDERS)
    for name in FOLDERS:
        assert len(list((ADDONS / name / "ci").glob("*-values.yaml"))) >= 2, name
        schema = ROOT / "schemas" / "charts" / f"{name.split('@', 1)[0]}.schema.json"
        assert schema.read_bytes() == (ADDONS / name / "values.schema.json").read_bytes(), name


@pytest.mark.parametrize(("chart", "variant"), CASES)
def test_lint_strict(helm_env: dict[str, str], chart: str, variant: str | None) -> None:
    result = _helm(helm_env, "lint", "--strict", str(ADDONS / chart), *_values_args(chart, variant))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("chart", "variant"), CASES)
def test_rendered_workloads_request_resources_and_pin_images(
    helm_env: dict[str, str], chart: str, variant: str | None
) -> None:
    containers = list(_containers(_render(helm_env, chart, *_values_args(chart, variant))))
    assert containers, "the chart renders no workload"
    for where, container in containers:
        requests = container.get("resources", {}).get("requests", {})
        assert "cpu" in requests and "memory" in requests, f"{where} has no cpu/memory requests"
        image = container["image"]
        assert ":" in image.rsplit("/", 1)[-1], f"{where} image {image} has no tag"
        assert not image.endswith(":latest"), f"{where} uses :latest"


@pytest.mark.parametrize("chart", FOLDERS)
def test_global_image_registry_prefixes_every_image(helm_env: dict[str, str], chart: str) -> None:
    objects = _render(helm_env, chart, "--set", "global.imageRegistry=reg.local")
    images = [container["image"] for _, container in _containers(objects)]
    assert images
    assert all(image.startswith("reg.local/") for image in images), images


@pytest.mark.parametrize("chart", FOLDERS)
def test_crds_are_v1_with_one_served_storage_version(chart: str) -> None:
    crd_files = sorted((ADDONS / chart / "crds").glob("*.yaml"))
    for path in crd_files:
        crd = YAML(typ="safe").load(path.read_text())
        assert crd["apiVersion"] == "apiextensions.k8s.io/v1", path.name
        assert crd["kind"] == "CustomResourceDefinition", path.name
        assert crd["metadata"]["name"] == f'{crd["spec"]["names"]["plural"]}.{crd["spec"]["group"]}', path.name
        versions = crd["spec"]["versions"]
        storage = [v for v in versions if v.get("storage")]
        assert len(storage) == 1 and storage[0]["served"], path.name
        assert all(v["schema"]["openAPIV3Schema"]["type"] == "object" for v in versions), path.name


def test_expected_crds_are_shipped() -> None:
    expected = {
        "cron-hpa": {"cronhpas.extensions.tkestack.io"},
        "tapp-controller": {"tapps.apps.tkestack.io"},
        "lbcf": {f"{p}.lbcf.tkestack.io" for p in ("loadbalancers", "backendgroups", "backendrecords", "loadbalancerdrivers")},
        "csi-operator": {"csis.storage.tkestack.io"},
        "volume-decorator": {"persistentvolumeclaimruntimes.storage.tke.cloud.tencent.com"},
        "log-collector": {"logcollectors.tke.cloud.tencent.com"},
    }
    for chart, names in expected.items():
        found = {YAML(typ="safe").load(p.read_text())["metadata"]["name"] for p in (ADDONS / chart / "crds").glob("*.yaml")}
        assert found == names, chart


@pytest.mark.parametrize("chart", FOLDERS)
def test_defaults_render_no_blocking_webhooks_or_foreign_kinds(helm_env: dict[str, str], chart: str) -> None:
    objects = _render(helm_env, chart)
    kinds = {obj["kind"] for obj in objects}
    assert not kinds & {"ServiceMonitor", "PodMonitor", "PrometheusRule", "APIService", "Certificate"}
    for obj in objects:
        for hook in obj.get("webhooks", []) if obj["kind"].endswith("WebhookConfiguration") else []:
            assert hook.get("failurePolicy") == "Ignore", obj["metadata"]["name"]


@pytest.mark.parametrize("chart", FOLDERS)
def test_unknown_top_level_key_fails_schema(helm_env: dict[str, str], chart: str) -> None:
    result = _helm(helm_env, "template", "rel", str(ADDONS / chart), "--kube-version", _kube_version(chart),
                   "--set", "bogusTopLevelKey=1")
    assert result.returncode != 0
    assert "bogusTopLevelKey" in result.stderr, result.stderr


def test_prometheus_2_line_fits_kube_state_metrics_2_3(helm_env: dict[str, str]) -> None:
    """kube-state-metrics v2.3.0 serves /healthz (no /livez, /readyz) and lists no EndpointSlices."""
    objects = _render(helm_env, "prometheus@2")
    ksm = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("kube-state-metrics"))
    container = ksm["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith(":v2.3.0")
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"] == {"path": "/", "port": "telemetry"}
    role = next(o for o in objects if o["kind"] == "ClusterRole" and o["metadata"]["name"].endswith("kube-state-metrics"))
    assert "discovery.k8s.io" not in {group for rule in role["rules"] for group in rule["apiGroups"]}
    server = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("server"))
    assert server["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v2.53.5")

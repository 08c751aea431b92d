"""The local control plane is a real Kubernetes API server: helm installs, upgrades and uninstalls
against it, and with the realism tier `--wait` sees pods turn Ready (or not)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pyhelm3 import Client
from pyhelm3.errors import Error as HelmError

from tests.support.cluster_fixtures import HelmEnv
from tests.support.control_plane import (
    FAKE_NODE,
    KUBE_VERSION,
    ControlPlane,
    eventually,
)

DEMO_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: '1.0'\n",
    "values.yaml": "message: hello\ncpu: 10m\n",
    "templates/configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  message: {{ .Values.message | quote }}
""",
    "templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Release.Name }}-web}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-web}
    spec:
      containers:
        - name: web
          image: registry.invalid/web:1.0
          resources:
            requests: {cpu: {{ .Values.cpu | quote }}, memory: 16Mi}
""",
}


def write_chart(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def helm_client(env: HelmEnv) -> Client:
    return Client(executable=str(env.helm), kubeconfig=env.kubeconfig)


def install(env: HelmEnv, chart_dir: Path, release: str, namespace: str, values: dict[str, Any],
            **options: Any) -> Any:
    """One `helm upgrade --install` through pyhelm3 (one merged values dict, string timeouts)."""
    client = helm_client(env)

    async def run() -> Any:
        chart = await client.get_chart(chart_dir)
        return await client.install_or_upgrade_release(release, chart, values, namespace=namespace, **options)

    return asyncio.run(run())


def release_secrets(plane: ControlPlane, namespace: str, release: str) -> list[dict[str, Any]]:
    return plane.api_list(f"/api/v1/namespaces/{namespace}/secrets", label_selector=f"owner=helm,name={release}")


@pytest.mark.cluster
def test_api_server_reports_the_built_version(control_plane: ControlPlane) -> None:
    assert control_plane.version() == KUBE_VERSION
    assert control_plane.ready()
    review = control_plane.api_create("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                      {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    user = review["status"]["userInfo"]
    assert user["username"] == "admin" and "system:masters" in user["groups"]
    namespaces = {ns["metadata"]["name"] for ns in control_plane.api_list("/api/v1/namespaces")}
    assert {"default", "kube-system"} <= namespaces


@pytest.mark.cluster
@pytest.mark.helm
def test_helm_install_upgrade_uninstall(helm_env: HelmEnv, tmp_path: Path) -> None:
    plane, ns, release = helm_env.control_plane, "lifecycle", "demo"
    chart_dir = write_chart(tmp_path / "demo", DEMO_CHART)
    configmap = f"/api/v1/namespaces/{ns}/configmaps/{release}-settings"

    revision = install(helm_env, chart_dir, release, ns, {"message": "one"}, timeout="60s")
    assert revision.revision == 1
    secret = plane.api_get(f"/api/v1/namespaces/{ns}/secrets/sh.helm.release.v1.{release}.v1")
    assert secret["type"] == "helm.sh/release.v1"
    assert plane.api_get(configmap)["data"] == {"message": "one"}
    assert plane.api_exists(f"/apis/apps/v1/namespaces/{ns}/deployments/{release}-web")

    revision = install(helm_env, chart_dir, release, ns, {"message": "two"}, timeout="60s")
    assert revision.revision == 2
    assert plane.api_get(f"/api/v1/namespaces/{ns}/secrets/sh.helm.release.v1.{release}.v2")["type"] \
        == "helm.sh/release.v1"
    assert plane.api_get(configmap)["data"] == {"message": "two"}
    assert len(release_secrets(plane, ns, release)) == 2

    asyncio.run(helm_client(helm_env).uninstall_release(release, namespace=ns, timeout="60s"))
    assert not plane.api_exists(configmap)
    assert not plane.api_exists(f"/apis/apps/v1/namespaces/{ns}/deployments/{release}-web")
    assert release_secrets(plane, ns, release) == []


@pytest.mark.cluster
@pytest.mark.realism
@pytest.mark.helm
def test_wait_sees_the_deployment_ready(realistic_control_plane: ControlPlane, helm_env: HelmEnv,
                                        tmp_path: Path) -> None:
    plane, ns, release = realistic_control_plane, "ready", "web"
    assert helm_env.control_plane is plane
    chart_dir = write_chart(tmp_path / "demo", DEMO_CHART)

    revision = install(helm_env, chart_dir, release, ns, {"message": "ready"}, wait=True, timeout="90s")
    assert revision.status.value == "deployed"
    deployment = plane.api_get(f"/apis/apps/v1/namespaces/{ns}/deployments/{release}-web")
    assert deployment["status"].get("readyReplicas") == 1
    (pod,) = plane.api_list(f"/api/v1/namespaces/{ns}/pods", label_selector=f"app={release}-web")
    assert pod["spec"]["nodeName"] == FAKE_NODE
    assert pod["status"]["phase"] == "Running"


@pytest.mark.cluster
@pytest.mark.realism
@pytest.mark.helm
def test_wait_fails_when_the_pod_can_never_be_scheduled(realistic_control_plane: ControlPlane,
                                                        helm_env: HelmEnv, tmp_path: Path) -> None:
    # kwok turns every scheduled pod Ready whatever its readinessProbe says, so the pod that never
    # gets Ready asks for more CPU than the fake Node has.
    plane, ns, release = realistic_control_plane, "never-ready", "greedy"
    chart_dir = write_chart(tmp_path / "demo", DEMO_CHART)

    with pytest.raises(HelmError) as failure:
        install(helm_env, chart_dir, release, ns, {"cpu": "1000"}, wait=True, timeout="15s")
    assert "context deadline exceeded" in str(failure.value) or "timed out" in str(failure.value)

    (pod,) = plane.api_list(f"/api/v1/namespaces/{ns}/pods", label_selector=f"app={release}-web")
    scheduled = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (pod["status"]["phase"], scheduled["status"], scheduled["reason"]) == ("Pending", "False", "Unschedulable")
    deployment = plane.api_get(f"/apis/apps/v1/namespaces/{ns}/deployments/{release}-web")
    assert not deployment["status"].get("readyReplicas")
    secret = eventually(lambda: release_secrets(plane, ns, release), what="release secret")
    assert secret[0]["metadata"]["labels"]["status"] == "failed"

"""Moving a TKEStack-built cluster onto the catalog, against the real API server and helm. TKEStack 1.8
applied Galaxy, flannel and metrics-server itself, as manifests helm does not own: some under the
chart's names (adopted: helm takes ownership), workloads among them with selectors the chart's differ
from (deleted, then created by the release: a selector cannot change), and some under other names
(`replaces:` in the catalog: deleted after the install). The plan names all of them; apply without
consent changes nothing; with consent (one step: `apply --take-over galaxy,metrics-server`) the
catalog's releases own everything, TKEStack's leftovers are gone, and a re-apply is a no-op."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from tests.support.cluster_fixtures import SESSION_TTL_SECONDS, make_helm_env
from tests.support.control_plane import ControlPlane
from toolkit.cli import cli
from toolkit.errors import EXIT_CONFLICT, EXIT_OK

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

ROOT = Path(__file__).parents[2]


def _pod(labels: dict[str, str], image: str) -> dict[str, Any]:
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "main", "image": image}]}}


def tkestack_objects(ns: str) -> list[tuple[str, dict[str, Any]]]:
    """What TKEStack's Galaxy and metrics-server steps applied (names and selectors of its templates)."""
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    galaxy, flannel, metrics = {"app": "galaxy"}, {"k8s-app": "flannel"}, {"k8s-app": "metrics-server"}
    return [
        (f"/api/v1/namespaces/{ns}/serviceaccounts", {"metadata": {"name": "galaxy"}}),
        (f"/api/v1/namespaces/{ns}/serviceaccounts", {"metadata": {"name": "flannel"}}),
        (f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "galaxy-etc"}, "data": {"galaxy.json": "{}"}}),
        (f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "cni-etc"}, "data": {"00-galaxy.conf": "{}"}}),
        (f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "kube-flannel-cfg"},
                                                 "data": {"net-conf.json": "{}"}}),
        (f"/apis/apps/v1/namespaces/{ns}/daemonsets", {"metadata": {"name": "galaxy-daemonset", "labels": galaxy},
                                                       "spec": {"selector": {"matchLabels": galaxy},
                                                                "template": _pod(galaxy, "tkestack/galaxy:v1.0.8")}}),
        (f"/apis/apps/v1/namespaces/{ns}/daemonsets", {"metadata": {"name": "kube-flannel-ds", "labels": flannel},
                                                       "spec": {"selector": {"matchLabels": flannel},
                                                                "template": _pod(flannel, "tkestack/flannel:v0.10")}}),
        (f"{rbac}/clusterroles", {"metadata": {"name": "flannel"}, "rules": []}),
        (f"{rbac}/clusterrolebindings", {"metadata": {"name": "flannel"}, "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "flannel"},
            "subjects": [{"kind": "ServiceAccount", "name": "flannel", "namespace": ns}]}),
        (f"/api/v1/namespaces/{ns}/serviceaccounts", {"metadata": {"name": "metrics-server"}}),
        (f"/api/v1/namespaces/{ns}/services", {"metadata": {"name": "metrics-server", "labels": metrics},
                                               "spec": {"selector": metrics, "ports": [{"port": 443}]}}),
        (f"/apis/apps/v1/namespaces/{ns}/deployments", {"metadata": {"name": "metrics-server", "labels": metrics},
                                                        "spec": {"selector": {"matchLabels": metrics},
                                                                 "template": _pod(metrics, "tkestack/metrics-server:v0.3.6")}}),
        (f"{rbac}/clusterroles", {"metadata": {"name": "system:metrics-server"}, "rules": []}),
        ("/apis/apiregistration.k8s.io/v1/apiservices", {"metadata": {"name": "v1beta1.metrics.k8s.io"}, "spec": {
            "service": {"name": "metrics-server", "namespace": ns}, "group": "metrics.k8s.io", "version": "v1beta1",
            "insecureSkipTLSVerify": True, "groupPriorityMinimum": 100, "versionPriority": 100}}),
    ]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The catalog's galaxy and metrics-server apps (as shipped, in a namespace of their own) against an API
    server of their own (their cluster-scoped objects have fixed names)."""
    uid = uuid.uuid4().hex[:6]
    namespace = f"tke-{uid}"
    root = tmp_path / "project"
    yaml = YAML()
    catalog = yaml.load((ROOT / "catalog" / "catalog.yaml").read_text())
    catalog["apps"] = [a for a in catalog["apps"] if a["name"] in ("galaxy", "metrics-server")]
    for app in catalog["apps"]:
        app["namespace"] = namespace
        app.pop("conflictsWith", None)
        for folder in (app["chart"], *(app.get("lines") or [])):
            shutil.copytree(ROOT / folder, root / folder)
    (root / "catalog").mkdir(parents=True)
    with (root / "catalog" / "catalog.yaml").open("w") as stream:
        yaml.dump(catalog, stream)
    (root / "cluster.yaml").write_text(f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata: {{name: cls-tke-{uid}}}
spec:
  version: 1.36.3
  clusterCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  kubeletExtraArgs: {{cgroup-driver: systemd}}
  features: {{containerRuntime: containerd, enableMetricsServer: true}}
""")
    monkeypatch.setenv("TKE_CATALOG_CACHE", str(tmp_path / "cache"))
    with ControlPlane(tmp_path / "plane", ttl=SESSION_TTL_SECONDS) as plane:
        env = make_helm_env(plane, tmp_path / "helm-home", monkeypatch)
        monkeypatch.setenv("TKE_CATALOG_HELM", str(env.helm))
        plane.api_create("/api/v1/namespaces", {"metadata": {"name": namespace}})
        for path, body in tkestack_objects(namespace):
            plane.api_create(path, body)
        yield {"root": root, "namespace": namespace, "env": env, "plane": plane}


def _cli(project: dict[str, Any], verb: str, *args: str) -> Result:
    return CliRunner().invoke(cli, [verb, str(project["root"] / "cluster.yaml"), "--root", str(project["root"]),
                                    "--kubeconfig", str(project["env"].kubeconfig), *args])


def _apply(project: dict[str, Any], *args: str) -> Result:
    return _cli(project, "apply", "--yes", "--no-wait", "--timeout", "90s", "--output", "json", *args)


def _owner(plane: ControlPlane, path: str) -> str | None:
    meta = plane.api_get(path)["metadata"]
    value: str | None = (meta.get("annotations") or {}).get("meta.helm.sh/release-name")
    return value


def test_a_tkestack_built_cluster_moves_onto_the_catalog_in_one_consented_apply(project: dict[str, Any]) -> None:
    plane: ControlPlane = project["plane"]
    ns = project["namespace"]
    planned = _cli(project, "plan", "-o", "json")
    assert planned.exit_code == EXIT_OK, planned.output
    entries = {r["name"]: r for r in json.loads(planned.stdout)["releases"]}
    assert entries["galaxy"]["action"] == entries["metrics-server"]["action"] == "conflict"
    galaxy = entries["galaxy"]["reason"]
    for shown in ("ConfigMap/galaxy-etc", "DaemonSet/galaxy-daemonset (its selector differs",
                  "DaemonSet/kube-flannel-ds (replaced", "ClusterRoleBinding/flannel (replaced"):
        assert shown in galaxy
    assert "Deployment/metrics-server (its selector differs" in entries["metrics-server"]["reason"]
    assert "APIService/v1beta1.metrics.k8s.io" in entries["metrics-server"]["reason"]

    refused = _apply(project)
    assert refused.exit_code == EXIT_CONFLICT, refused.output
    assert plane.api_exists(f"/apis/apps/v1/namespaces/{ns}/daemonsets/kube-flannel-ds")
    assert _owner(plane, f"/api/v1/namespaces/{ns}/configmaps/galaxy-etc") is None  # nothing was changed
    selector = plane.api_get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/galaxy-daemonset")["spec"]["selector"]
    assert selector == {"matchLabels": {"app": "galaxy"}}

    moved = _apply(project, "--take-over", "galaxy,metrics-server")
    assert moved.exit_code == EXIT_OK, moved.output
    assert {r["name"]: r["outcome"] for r in json.loads(moved.stdout)["releases"]} == {
        "galaxy": "installed", "metrics-server": "installed"}
    for path in (f"/api/v1/namespaces/{ns}/configmaps/galaxy-etc", f"/api/v1/namespaces/{ns}/configmaps/kube-flannel-cfg",
                 f"/apis/apps/v1/namespaces/{ns}/daemonsets/galaxy-daemonset",
                 f"/apis/apps/v1/namespaces/{ns}/deployments/metrics-server",
                 "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io"):
        assert _owner(plane, path) in ("galaxy", "metrics-server"), path
    chart_selector = plane.api_get(f"/apis/apps/v1/namespaces/{ns}/daemonsets/galaxy-daemonset")["spec"]["selector"]
    assert chart_selector["matchLabels"]["app.kubernetes.io/instance"] == "galaxy"
    for gone in (f"/apis/apps/v1/namespaces/{ns}/daemonsets/kube-flannel-ds", f"/api/v1/namespaces/{ns}/serviceaccounts/flannel",
                 "/apis/rbac.authorization.k8s.io/v1/clusterroles/flannel",
                 "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/flannel",
                 "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:metrics-server"):
        assert not plane.api_exists(gone), gone

    again = _apply(project)
    assert again.exit_code == EXIT_OK, again.output
    assert {r["outcome"] for r in json.loads(again.stdout)["releases"]} == {"unchanged"}

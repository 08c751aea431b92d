"""The version matrix against real API servers: every catalog chart line × every variant, rendered for
the oldest (1.29) and the newest (1.36) kube-apiserver that build here, is accepted object by object by
that server's server-side dry-run (its own decoding, defaulting, validation and admission). The charts'
CRDs are created for real first, so their custom resources are dry-run too."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.control_plane import SERVICE_CIDR, ControlPlane, KubeApiError
from tests.support.registry_fixtures import require_helm
from toolkit.actions.api_matrix import admitted_minors
from toolkit.adapters.chart_folder import load_chart_folder
from toolkit.adapters.files import read_tree
from toolkit.adapters.helm import Helm
from toolkit.adapters.project import find_chart_dirs
from toolkit.core.chart import parse_chart
from toolkit.core.yamldoc import parse_yaml, to_plain

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

ROOT = Path(__file__).parents[2]
NAMESPACE = "kube-system"


def _resources(plane: ControlPlane) -> dict[tuple[str, str], tuple[str, bool]]:
    """(apiVersion, kind) → (collection path prefix, namespaced), from the server's own discovery."""
    found: dict[tuple[str, str], tuple[str, bool]] = {}
    group_versions = [("v1", "/api/v1")]
    for group in plane.api_get("/apis")["groups"]:
        group_versions += [(v["groupVersion"], f"/apis/{v['groupVersion']}") for v in group["versions"]]
    for group_version, base in group_versions:
        for resource in plane.api_get(base)["resources"]:
            if "/" not in resource["name"] and "create" in resource.get("verbs", []):
                found[(group_version, resource["kind"])] = (f"{base}/{resource['name']}", resource["namespaced"])
    return found


def _cases() -> list[tuple[Path, str, dict[str, Any]]]:
    cases = []
    for folder in find_chart_dirs(ROOT / "charts"):
        if load_chart_folder(folder, metadata_only=True).is_library:
            continue  # renders nothing on its own
        variants: list[tuple[str, dict[str, Any]]] = [("values.yaml", {})]
        for values_file in sorted((folder / "ci").glob("*-values.yaml")):
            variants.append((values_file.name, to_plain(parse_yaml(values_file.read_text(), str(values_file))) or {}))
        cases += [(folder, label, values) for label, values in variants]
    return cases


def _create_crds(plane: ControlPlane, objects: list[dict[str, Any]]) -> None:
    for crd in (o for o in objects if o.get("kind") == "CustomResourceDefinition"):
        name = crd["metadata"]["name"]
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        if not plane.api_exists(f"{path}/{name}"):
            plane.api_create(path, crd)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = plane.api_get(f"{path}/{name}").get("status", {})
            if any(c["type"] == "Established" and c["status"] == "True" for c in status.get("conditions") or []):
                break
            time.sleep(0.2)


def _in_service_range(service: dict[str, Any]) -> dict[str, Any]:
    """The Service with a fixed clusterIP outside the test server's service range left to the server:
    the address is the cluster's (TKEStack's 10.96.0.10), not the chart's API usage."""
    spec = dict(service.get("spec") or {})
    if spec.get("clusterIP") not in (None, "", "None") and ipaddress.ip_address(spec["clusterIP"]) not in \
            ipaddress.ip_network(SERVICE_CIDR):
        spec.pop("clusterIP")
        spec.pop("clusterIPs", None)
    return {**service, "spec": spec}


def _dry_run_all(plane: ControlPlane, minor: int) -> tuple[list[str], int]:
    helm = Helm(str(require_helm()))
    problems: list[str] = []
    checked = 0
    release = plane.version().lstrip("v")
    for folder, label, values in _cases():
        package = parse_chart(read_tree(folder), str(folder))
        if minor not in admitted_minors(package, [minor]):
            continue
        objects = helm.template(folder, package.name, NAMESPACE, values, kube_version=release)
        _create_crds(plane, objects)
        resources = _resources(plane)
        for obj in objects:
            if obj.get("kind") == "CustomResourceDefinition":
                continue
            where = resources.get((obj["apiVersion"], obj["kind"]))
            if where is None:
                if "." in obj["apiVersion"].split("/")[0] and not obj["apiVersion"].endswith(".k8s.io/v1"):
                    continue  # a custom resource whose CRD an operator registers at start-up
                problems.append(f"{folder.name} {label}: {obj['apiVersion']} {obj['kind']} is not served")
                continue
            collection, namespaced = where
            if obj["kind"] == "Service":
                obj = _in_service_range(obj)
            if namespaced:
                namespace = obj.get("metadata", {}).get("namespace") or NAMESPACE
                collection = collection.replace(f"/{collection.rsplit('/', 1)[1]}",
                                                f"/namespaces/{namespace}/{collection.rsplit('/', 1)[1]}")
            try:
                plane.api_create(f"{collection}?dryRun=All&fieldValidation=Strict", obj)
                checked += 1
            except KubeApiError as exc:
                if exc.status == 409:  # already exists (a cluster-scoped object an earlier case dry-ran)
                    checked += 1
                    continue
                problems.append(f"{folder.name} {label}: {obj['kind']}/{obj['metadata'].get('name')}: {exc}")
    return problems, checked


def test_the_newest_api_server_accepts_every_chart(control_plane: ControlPlane) -> None:
    assert control_plane.version().startswith("v1.36.")
    problems, checked = _dry_run_all(control_plane, 36)
    assert problems == []
    assert checked > 100


def test_the_oldest_api_server_accepts_every_chart(oldest_control_plane: ControlPlane) -> None:
    assert oldest_control_plane.version().startswith("v1.29.")
    problems, checked = _dry_run_all(oldest_control_plane, 29)
    assert problems == []
    assert checked > 100


def test_the_oldest_api_server_refuses_what_the_check_refuses(oldest_control_plane: ControlPlane) -> None:
    # the same verdict from the server and from the bundled API: an unknown field, a removed version
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"replica": 1, "selector": {"matchLabels": {"a": "b"}},
                           "template": {"metadata": {"labels": {"a": "b"}},
                                        "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    with pytest.raises(KubeApiError) as caught:
        oldest_control_plane.api_create("/apis/apps/v1/namespaces/default/deployments?dryRun=All"
                                        "&fieldValidation=Strict", deployment)
    assert "strict decoding error" in caught.value.body and "spec.replica" in caught.value.body
    from toolkit.adapters.api_specs import load_api_spec
    from toolkit.core.api_check import check_objects

    [ours] = check_objects([deployment], load_api_spec(29))
    assert "unknown field `replica`" in ours.message and ours.path == "$.spec.replica"
    assert not oldest_control_plane.api_exists("/apis/flowcontrol.apiserver.k8s.io/v1beta2")
    assert load_api_spec(29).versions_of("flowcontrol.apiserver.k8s.io", "FlowSchema") == [
        "flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta3"]

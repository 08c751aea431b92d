"""Objects checked against each Kubernetes release's own API (the bundled OpenAPI of k8s.io/kubernetes
1.19-1.36): removed and not-yet-added versions, unknown fields and wrong types are errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from toolkit.adapters.api_specs import load_api_spec, parse_kube_minor
from toolkit.core.api_check import check_objects, group_by_minor, minor_ranges
from toolkit.core.findings import Finding, Severity
from toolkit.core.matrix import KUBERNETES_MINORS, KUBERNETES_RELEASES
from toolkit.errors import InputError

SPECS = Path(__file__).parents[2] / "schemas" / "kubernetes"


def errors(objects: list[dict[str, Any]], minor: int) -> list[Finding]:
    return [f for f in check_objects(objects, load_api_spec(minor)) if f.severity is Severity.ERROR]


def deployment(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx",
                                                           "resources": {"requests": {"cpu": 1, "memory": "64Mi"}},
                                                           "ports": [{"containerPort": 80, "name": "http"}]}]}},
                     **spec}}


def test_every_supported_minor_has_its_own_release_api() -> None:
    for minor in KUBERNETES_MINORS:
        data = json.loads(gzip.decompress((SPECS / f"1.{minor}.json.gz").read_bytes()))
        assert data["release"] == KUBERNETES_RELEASES[minor]
        assert load_api_spec(minor).definition_of("apps/v1", "Deployment")


@pytest.mark.parametrize(("api_version", "kind", "served", "gone", "replacement"), [
    ("policy/v1beta1", "PodSecurityPolicy", 24, 25, None),
    ("policy/v1beta1", "PodDisruptionBudget", 24, 25, "policy/v1"),
    ("networking.k8s.io/v1beta1", "Ingress", 21, 22, "networking.k8s.io/v1"),
    ("batch/v1beta1", "CronJob", 24, 25, "batch/v1"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler", 25, 26, "autoscaling/v2"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", 28, 29, "flowcontrol.apiserver.k8s.io/v1"),
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", 21, 22, "apiextensions.k8s.io/v1"),
])
def test_removed_versions_are_served_until_their_release(api_version: str, kind: str, served: int, gone: int,
                                                         replacement: str | None) -> None:
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}}
    assert not [f for f in errors([obj], served) if "not served" in f.message]
    [finding] = errors([obj], gone)
    assert f"{api_version} {kind} is not served" in finding.message and finding.rule == "kube-api"
    if replacement:
        assert replacement in (finding.hint or "")
    else:
        assert "no PodSecurityPolicy at all" in (finding.hint or "")


def test_versions_that_1_20_added_are_refused_on_1_19() -> None:
    runtime_class = {"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "runc"},
                     "handler": "runc"}
    flow = {"apiVersion": "flowcontrol.apiserver.k8s.io/v1beta1", "kind": "FlowSchema", "metadata": {"name": "f"}}
    assert len(errors([runtime_class, flow], 19)) == 2
    assert errors([runtime_class, flow], 20) == []
    assert "node.k8s.io/v1beta1" in (errors([runtime_class], 19)[0].hint or "")


def test_a_valid_deployment_passes_every_minor() -> None:
    for minor in KUBERNETES_MINORS:
        assert errors([deployment()], minor) == []


def test_unknown_fields_are_errors_with_their_path() -> None:
    [finding] = errors([deployment(replica=3)], 21)
    assert "unknown field `replica`" in finding.message and finding.path == "$.spec.replica"


def test_a_field_a_later_release_added_is_unknown_before_it() -> None:
    # Deployment's pod spec gained `os` in 1.23 (PodOS)
    obj = deployment()
    obj["spec"]["template"]["spec"]["os"] = {"name": "linux"}
    assert errors([obj], 25) == []
    [finding] = errors([obj], 22)
    assert "unknown field `os`" in finding.message


def test_wrong_types_are_errors_and_quantities_take_numbers() -> None:
    obj = deployment(replicas="3")
    obj["metadata"]["labels"]["enabled"] = True
    found = errors([obj], 30)
    assert {f.path for f in found} == {"$.spec.replicas", "$.metadata.labels.enabled"}
    assert any("expected a string, got boolean" in f.message for f in found)
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
               "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}]}}
    assert errors([service], 30) == []
    service["spec"]["ports"][0]["targetPort"] = 1.5
    assert "integer or a string" in errors([service], 30)[0].message


def test_custom_resources_are_checked_against_the_charts_crds() -> None:
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "pools.galaxy.k8s.io"},
           "spec": {"group": "galaxy.k8s.io", "names": {"kind": "Pool", "plural": "pools"}, "scope": "Namespaced",
                    "versions": [{"name": "v1alpha1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": {"type": "object",
                                                                 "x-kubernetes-preserve-unknown-fields": True}}}]}}
    pool = {"apiVersion": "galaxy.k8s.io/v1alpha1", "kind": "Pool", "metadata": {"name": "p"}}
    assert check_objects([crd, pool], load_api_spec(21)) == []
    wrong = dict(pool, apiVersion="galaxy.k8s.io/v1")
    assert "serves galaxy.k8s.io v1alpha1, not v1" in errors([crd, wrong], 21)[0].message
    [unchecked] = check_objects([{"apiVersion": "cilium.io/v2", "kind": "CiliumBGPClusterConfig",
                                  "metadata": {"name": "b"}}], load_api_spec(36))
    assert unchecked.severity is Severity.INFO and unchecked.rule == "kube-api-unchecked"


def test_alpha_versions_are_warned_about() -> None:
    obj = {"apiVersion": "node.k8s.io/v1alpha1", "kind": "RuntimeClass", "metadata": {"name": "r"},
           "spec": {"runtimeHandler": "runc"}}
    [warning] = check_objects([obj], load_api_spec(19))
    assert warning.severity is Severity.WARNING and warning.rule == "kube-api-alpha"


def test_findings_are_grouped_by_the_minors_that_have_them() -> None:
    psp = {"apiVersion": "policy/v1beta1", "kind": "PodSecurityPolicy", "metadata": {"name": "p"}}
    per_minor = {m: errors([psp], m) for m in KUBERNETES_MINORS}
    [finding] = group_by_minor(per_minor, label="(values.yaml)")
    assert finding.message.startswith("(values.yaml): Kubernetes 1.25-1.36: ")
    assert minor_ranges([19, 20, 21, 25, 27, 28]) == "1.19-1.21, 1.25, 1.27-1.28"


@pytest.mark.parametrize("text", ["1.21", "v1.21.4", "1.21.4-tke.1"])
def test_kube_version_options_name_a_supported_minor(text: str) -> None:
    assert parse_kube_minor(text) == 21


@pytest.mark.parametrize("text", ["1.18", "1.40", "2.0", "latest"])
def test_unsupported_kube_versions_are_refused(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_kube_minor(text)
    assert caught.value.hint

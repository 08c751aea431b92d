"""The CRD policy's decisions, pure: create what is missing, replace what changed, keep the chart's own
copy, refuse what would strand stored objects or change the scope."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.core.crd_policy import (
    CRD_DIGEST_ANNOTATION,
    CrdPolicy,
    chart_crds,
    crd_policy,
    crd_step,
    with_digest,
)
from toolkit.errors import InputError


def definition(*versions: str, scope: str = "Namespaced") -> dict[str, Any]:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.io"},
            "spec": {"group": "example.io", "scope": scope, "names": {"kind": "Widget", "plural": "widgets"},
                     "versions": [{"name": v, "served": True, "storage": v == versions[-1]} for v in versions]}}


def live(crd: dict[str, Any], stored: list[str], *, ours: bool = True) -> dict[str, Any]:
    copy = with_digest(crd) if ours else dict(crd)
    return {**copy, "metadata": {**copy["metadata"], "resourceVersion": "7"}, "status": {"storedVersions": stored}}


def test_missing_crds_are_created_unless_skipped() -> None:
    crd = definition("v1")
    assert crd_step(crd, None, CrdPolicy.CREATE_REPLACE).action == "create"
    assert crd_step(crd, None, CrdPolicy.CREATE).action == "create"
    assert crd_step(crd, None, CrdPolicy.SKIP).action == "keep"


def test_the_charts_own_copy_is_kept_and_a_changed_one_replaced() -> None:
    old, new = definition("v1alpha1"), definition("v1alpha1", "v1")
    assert crd_step(old, live(old, ["v1alpha1"]), CrdPolicy.CREATE_REPLACE).action == "keep"
    assert crd_step(new, live(old, ["v1alpha1"]), CrdPolicy.CREATE_REPLACE).action == "replace"
    assert crd_step(new, live(old, ["v1alpha1"]), CrdPolicy.CREATE).action == "keep"
    # one installed by helm (no digest yet) is replaced once, then carries the digest
    assert crd_step(old, live(old, ["v1alpha1"], ours=False), CrdPolicy.CREATE_REPLACE).action == "replace"


def test_dropping_a_stored_version_or_changing_the_scope_is_refused() -> None:
    both = definition("v1alpha1", "v1")
    step = crd_step(definition("v1"), live(both, ["v1alpha1", "v1"]), CrdPolicy.CREATE_REPLACE)
    assert step.action == "refuse" and "drops v1alpha1" in step.reason
    assert crd_step(definition("v1"), live(both, ["v1"]), CrdPolicy.CREATE_REPLACE).action == "replace"
    step = crd_step(definition("v1", scope="Cluster"), live(definition("v1"), ["v1"]), CrdPolicy.CREATE_REPLACE)
    assert step.action == "refuse" and "scope" in step.reason


def test_the_digest_marks_the_copy() -> None:
    marked = with_digest(definition("v1"))
    assert marked["metadata"]["annotations"][CRD_DIGEST_ANNOTATION].startswith("sha256:")
    assert with_digest(definition("v1")) == marked
    assert with_digest(definition("v1", "v2")) != marked


def test_policy_and_crds_are_read_from_the_chart() -> None:
    assert crd_policy({"annotations": {"tke-catalog.io/crd-policy": "CreateReplace"}}, "c") is CrdPolicy.CREATE_REPLACE
    assert crd_policy({}, "c") is None
    with pytest.raises(InputError) as caught:
        crd_policy({"annotations": {"tke-catalog.io/crd-policy": "Always"}}, "chart x")
    assert "CreateReplace" in (caught.value.hint or "")
    files = {"crds/a.yaml": b"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                            b"metadata: {name: a.example.io}\n---\nkind: ConfigMap\n",
             "templates/crd.yaml": b"kind: CustomResourceDefinition\nmetadata: {name: templated}\n"}
    assert [c["metadata"]["name"] for c in chart_crds(files, "c")] == ["a.example.io"]

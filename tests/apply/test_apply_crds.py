"""The CRD upgrade policy against the real API server and helm: a day-2 Kubernetes upgrade of the
Cluster moves an app to its newer line, whose CRD gains a version; apply upgrades the CRD (helm alone
never touches crds/ after the first install), refuses a definition that would strand stored objects,
and leaves a `Skip` chart's CRDs to helm."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.apply.conftest import ApplyProject, make_project, outcomes
from tests.support.cluster_fixtures import make_helm_env
from tests.support.control_plane import (
    OLDEST_APISERVER,
    ControlPlane,
    KubeApiError,
    missing_binaries,
)
from toolkit.cli import cli
from toolkit.core.crd_policy import CRD_DIGEST_ANNOTATION
from toolkit.errors import EXIT_CHANGES, EXIT_CONFLICT, EXIT_OK

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

CRD = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.crd-test.tke-catalog.io"


@pytest.fixture
def widgets(project: ApplyProject) -> Iterator[ApplyProject]:
    """The apply project with the widgets app, its Cluster on the session API server's Kubernetes."""
    plane = project.env.control_plane
    if plane.api_exists(CRD):
        plane._request("DELETE", CRD)
    project.add_app("widgets")
    project.edit("version: 1.30.2", f"version: {plane.version().lstrip('v')}")
    yield project
    plane._request("DELETE", CRD)


def crd(project: ApplyProject) -> dict[str, Any]:
    return project.env.control_plane.api_get(CRD)


def served(project: ApplyProject) -> dict[str, bool]:
    return {v["name"]: v["storage"] for v in crd(project)["spec"]["versions"] if v["served"]}


def plan_entry(project: ApplyProject, name: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["plan", str(project.cluster_file), "--root", str(project.root), "--kubeconfig",
                                      str(project.env.kubeconfig), "-o", "json"])
    assert result.exit_code in (EXIT_OK, EXIT_CHANGES), result.output
    return next(r for r in json.loads(result.stdout)["releases"] if r["name"] == name)


def widget(project: ApplyProject, version: str, spec: dict[str, Any]) -> dict[str, Any]:
    return project.env.control_plane.api_create(
        f"/apis/crd-test.tke-catalog.io/{version}/namespaces/default/widgets",
        {"apiVersion": f"crd-test.tke-catalog.io/{version}", "kind": "Widget",
         "metadata": {"generateName": "w-"}, "spec": spec})


def test_a_kubernetes_upgrade_moves_the_app_line_and_upgrades_its_crd(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # a real control-plane upgrade: kube-apiserver 1.29, then 1.36 on the same etcd data
    if missing_binaries(apiserver=OLDEST_APISERVER):
        pytest.skip(f"{OLDEST_APISERVER} is missing: run scripts/setup.sh kube-oldest")
    folder = tmp_path / "plane"
    with ControlPlane(folder, apiserver=OLDEST_APISERVER, ttl=1200) as old:
        project = make_project(tmp_path, make_helm_env(old, tmp_path / "helm-home", monkeypatch), monkeypatch)
        project.add_app("widgets")
        project.edit("version: 1.30.2", "version: 1.29.15")
        first = project.apply()
        assert first.exit_code == EXIT_OK, first.output
        assert project.releases()["widgets"].chart == "widgets-0.1.0"  # the line for Kubernetes below 1.30
        assert served(project) == {"v1alpha1": True}
        assert crd(project)["metadata"]["annotations"][CRD_DIGEST_ANNOTATION].startswith("sha256:")
        widget(project, "v1alpha1", {"colour": "red"})  # stored at v1alpha1
    with ControlPlane(folder, ttl=1200, keep_data=True) as new:
        assert new.version().startswith("v1.36.")
        project = replace(project, env=make_helm_env(new, tmp_path / "helm-home", monkeypatch))
        project.edit("version: 1.29.15", f"version: {new.version().lstrip('v')}")  # day 2: TKEStack upgraded it
        entry = plan_entry(project, "widgets")
        assert entry["action"] == "upgrade" and entry["previousVersion"] == "0.1.0" and entry["version"] == "0.2.0"
        assert "admits Kubernetes 1.36" in entry["reason"]
        second = project.apply()
        assert second.exit_code == EXIT_OK, second.output
        assert outcomes(second)["widgets"] == "upgraded"
        assert served(project) == {"v1alpha1": False, "v1": True}
        assert set(crd(project)["status"]["storedVersions"]) == {"v1alpha1", "v1"}
        created = widget(project, "v1", {"colour": "blue", "size": 3})  # the new version and field are served
        assert created["spec"]["size"] == 3
        with pytest.raises(KubeApiError) as refused:
            widget(project, "v1", {"size": 0})  # the new schema is the one enforced
        assert refused.value.status == 422
        assert set(outcomes(project.apply()).values()) == {"unchanged"}  # the digest says the copy is current


def test_a_definition_that_strands_stored_objects_is_refused(widgets: ApplyProject) -> None:
    project = widgets
    assert project.apply().exit_code == EXIT_OK
    project.env.control_plane.api_create("/apis/crd-test.tke-catalog.io/v1/namespaces/default/widgets", {
        "apiVersion": "crd-test.tke-catalog.io/v1", "kind": "Widget", "metadata": {"name": "kept"},
        "spec": {"size": 1}})
    before = crd(project)
    # the chart's next version drops v1 (still in status.storedVersions)
    chart = project.root / "charts" / "addons" / "widgets"
    text = (chart / "crds" / "widgets.yaml").read_text()
    (chart / "crds" / "widgets.yaml").write_text(text.split("    - name: v1\n")[0].replace(
        "storage: false", "storage: true"))
    (chart / "Chart.yaml").write_text((chart / "Chart.yaml").read_text().replace("version: 0.2.0", "version: 0.3.0"))
    result = project.apply()
    assert result.exit_code == EXIT_CONFLICT, result.output
    assert "drops v1, which the cluster still stores objects in" in result.output
    assert crd(project)["spec"] == before["spec"]
    assert project.releases()["widgets"].chart == "widgets-0.2.0"  # helm was never called


def test_skip_leaves_the_crds_to_helm_which_never_upgrades_them(widgets: ApplyProject) -> None:
    project = widgets
    chart = project.root / "charts" / "addons" / "widgets"
    chart_yaml = chart / "Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("crd-policy: CreateReplace", "crd-policy: Skip"))
    assert project.apply().exit_code == EXIT_OK
    assert set(served(project)) == {"v1alpha1", "v1"}  # helm created it on the first install
    assert CRD_DIGEST_ANNOTATION not in (crd(project)["metadata"].get("annotations") or {})
    crd_file = chart / "crds" / "widgets.yaml"
    crd_file.write_text(crd_file.read_text().replace("colour: {type: string}\n                size",
                                                     "colour: {type: string}\n                shape: {type: string}\n"
                                                     "                size"))
    chart_yaml.write_text(chart_yaml.read_text().replace("version: 0.2.0", "version: 0.3.0"))
    result = project.apply()
    assert result.exit_code == EXIT_OK and outcomes(result)["widgets"] == "upgraded"
    assert project.releases()["widgets"].chart == "widgets-0.3.0"
    v1 = next(v for v in crd(project)["spec"]["versions"] if v["name"] == "v1")
    assert "shape" not in v1["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]  # helm left it

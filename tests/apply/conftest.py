"""A throw-away copy of the apply fixture project per test, with its own Cluster name and namespaces,
so tests share one control plane without touching each other's releases."""

from __future__ import annotations

import base64
import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.support.cluster_fixtures import HelmEnv
from toolkit.adapters.helm import Helm, ReleaseInfo
from toolkit.adapters.kube.inventory import inventory_name
from toolkit.cli import cli

PROJECT = Path(__file__).parent.parent / "fixtures" / "apply" / "project"


@dataclass
class ApplyProject:
    root: Path
    cluster: str
    system: str  # stands in for kube-system
    addons: str
    env: HelmEnv

    @property
    def cluster_file(self) -> Path:
        return self.root / "cluster.yaml"

    def edit(self, old: str, new: str) -> None:
        text = self.cluster_file.read_text()
        assert old in text, f"{old!r} not in the Cluster file"
        self.cluster_file.write_text(text.replace(old, new, 1))

    def add_app(self, name: str, extra: str = "") -> None:
        self.cluster_file.write_text(self.cluster_file.read_text() + app_entry(name, self.addons, extra))

    def apply(self, *args: str, source: Path | None = None) -> Result:
        return CliRunner().invoke(cli, [
            "apply", str(source or self.cluster_file), "--kubeconfig", str(self.env.kubeconfig),
            "--root", str(self.root), "--yes", "--no-wait", "--timeout", "60s", "--output", "json", *args])

    def helm(self) -> Helm:
        return Helm(str(self.env.helm), kubeconfig=self.env.kubeconfig)

    def releases(self) -> dict[str, ReleaseInfo]:
        return {r.name: r for r in self.helm().list_releases() if r.namespace in (self.system, self.addons)}

    def config(self, namespace: str, release: str) -> dict[str, Any] | None:
        path = f"/api/v1/namespaces/{namespace}/configmaps/{release}-config"
        plane = self.env.control_plane
        return plane.api_get(path) if plane.api_exists(path) else None

    def inventory(self) -> dict[str, Any]:
        secret = self.env.control_plane.api_get(
            f"/api/v1/namespaces/kube-system/secrets/{inventory_name(self.cluster)}")
        data: dict[str, Any] = json.loads(base64.b64decode(secret["data"]["inventory.json"]))
        return data


def app_entry(name: str, namespace: str, extra: str = "") -> str:
    return (f"    - app:\n        metadata:\n          name: {name}\n        spec:\n          type: HelmV3\n"
            f"          name: {name}\n          targetNamespace: {namespace}\n          chart:\n"
            f"            chartGroupName: public\n            chartName: {name}\n{extra}")


def outcomes(result: Result) -> dict[str, str]:
    assert result.stdout, result.output
    return {r["name"]: r["outcome"] for r in json.loads(result.stdout)["releases"]}


@pytest.fixture
def project(tmp_path: Path, helm_env: HelmEnv, monkeypatch: pytest.MonkeyPatch) -> ApplyProject:
    return make_project(tmp_path, helm_env, monkeypatch)


def make_project(tmp_path: Path, helm_env: HelmEnv, monkeypatch: pytest.MonkeyPatch) -> ApplyProject:
    """A copy of the apply fixture project in `tmp_path` with its own namespaces and Cluster name."""
    uid = uuid.uuid4().hex[:6]
    monkeypatch.setenv("TKE_CATALOG_HELM", str(helm_env.helm))
    monkeypatch.setenv("TKE_CATALOG_CACHE", str(tmp_path / "cache"))  # chart archives stay in the test
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    system, addons = f"sys-{uid}", f"addons-{uid}"
    catalog = root / "catalog" / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("namespace: kube-system", f"namespace: {system}")
                       .replace("namespace: addons", f"namespace: {addons}"))
    cluster = f"cls-{uid}"
    text = (root / "cluster.yaml").read_text().replace("name: cls-apply", f"name: {cluster}")
    (root / "cluster.yaml").write_text(text.replace("targetNamespace: addons", f"targetNamespace: {addons}"))
    return ApplyProject(root, cluster, system, addons, helm_env)


ValuesEntry = Callable[[str], str]


def values_block(*set_values: str) -> str:
    """A bootstrap app's `values.values[]` block."""
    lines = "".join(f"              - {v}\n" for v in set_values)
    return f"          values:\n            values:\n{lines}"

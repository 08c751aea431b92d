"""Cluster access as kubectl and helm do it, against the real API server: KUBECONFIG merging, the
default ~/.kube/config, --context, the in-cluster service account, and an exec plugin whose token
expires and is fetched again."""

from __future__ import annotations

import json
import stat
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.control_plane import ControlPlane
from toolkit.adapters.kube.client import ClusterAccess, connect
from toolkit.adapters.kube.inventory import Inventory
from toolkit.errors import ClusterError, InputError

pytestmark = pytest.mark.cluster


def _admin(plane: ControlPlane) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(plane.kubeconfig.read_text())
    return data


def _split(plane: ControlPlane, tmp_path: Path) -> tuple[Path, Path]:
    """The admin kubeconfig as two files: clusters and users in one, contexts in the other."""
    config = _admin(plane)
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "clusters": config["clusters"],
                                 "users": config["users"]}))
    ctx = config["contexts"][0]
    renamed = {"name": "merged", "context": ctx["context"]}
    second.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", "contexts": [renamed],
                                  "current-context": "merged"}))
    return first, second


def test_kubeconfig_merges_colon_separated_files(control_plane: ControlPlane, tmp_path: Path) -> None:
    first, second = _split(control_plane, tmp_path)
    access = ClusterAccess(env_kubeconfig=f"{first}:{second}", home=tmp_path)
    with connect(access) as kube:
        assert kube.version() == control_plane.version()
        assert kube.server == control_plane.server


def test_the_default_kubeconfig_and_a_named_context(control_plane: ControlPlane, tmp_path: Path) -> None:
    config = _admin(control_plane)
    config["contexts"].append({"name": "elsewhere", "context": {"cluster": "nowhere", "user": "admin"}})
    config["clusters"].append({"name": "nowhere", "cluster": {"server": "https://127.0.0.1:1"}})
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text(json.dumps(config))
    with connect(ClusterAccess(home=tmp_path)) as kube:  # ~/.kube/config, its current context
        assert kube.version() == control_plane.version()
    with connect(ClusterAccess(home=tmp_path, context="elsewhere")) as kube, pytest.raises(ClusterError):
        kube.version()
    with pytest.raises(InputError, match="context"):
        connect(ClusterAccess(home=tmp_path, context="no-such-context"))


def _service_account_token(plane: ControlPlane) -> str:
    name = f"tke-{uuid.uuid4().hex[:6]}"
    plane.api_create("/api/v1/namespaces/default/serviceaccounts", {"metadata": {"name": name}})
    plane.api_create("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "default"}]})
    answer = plane.api_create(f"/api/v1/namespaces/default/serviceaccounts/{name}/token",
                              {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                               "spec": {"expirationSeconds": 3600}})
    return str(answer["status"]["token"])


def test_in_cluster_from_a_mounted_token_and_ca(control_plane: ControlPlane, tmp_path: Path) -> None:
    mounted = tmp_path / "serviceaccount"
    mounted.mkdir()
    (mounted / "token").write_text(_service_account_token(control_plane))
    (mounted / "ca.crt").write_bytes(control_plane.ca.read_bytes())
    port = control_plane.server.rsplit(":", 1)[1]
    access = ClusterAccess(home=tmp_path, service_host="127.0.0.1", service_port=port, service_account=mounted)
    with connect(access) as kube:
        assert kube.version() == control_plane.version()
        inventory = Inventory(kube, f"cls-incluster-{uuid.uuid4().hex[:6]}")
        inventory.record({"namespace": "default", "name": "x", "chart": "x", "version": "1.0.0"})
    stored = control_plane.api_get(f"/api/v1/namespaces/kube-system/secrets/{inventory.name}")
    assert stored["type"] == "tke-catalog.io/inventory"


def _exec_kubeconfig(plane: ControlPlane, tmp_path: Path, token: str, lifetime: int) -> tuple[Path, Path]:
    """A kubeconfig whose user is an exec plugin that hands out `token` valid for `lifetime` seconds
    (client-side) and counts how often it ran."""
    counter = tmp_path / "exec-count"
    plugin = tmp_path / "token-plugin.py"
    plugin.write_text(f"""#!{sys.executable}
import datetime, json, pathlib
counter = pathlib.Path({str(counter)!r})
counter.write_text(str(int(counter.read_text() or 0) + 1) if counter.exists() else "1")
expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds={lifetime})
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {{"token": {token!r}, "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}}}}))
""")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    config = _admin(plane)
    config["users"] = [{"name": "admin", "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin), "interactiveMode": "Never"}}}]
    path = tmp_path / "exec-kubeconfig"
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path, counter


def test_an_exec_plugin_token_is_fetched_again_when_it_expires(control_plane: ControlPlane, tmp_path: Path) -> None:
    path, counter = _exec_kubeconfig(control_plane, tmp_path, _service_account_token(control_plane), lifetime=2)
    with connect(ClusterAccess(kubeconfig=str(path), home=tmp_path)) as kube:
        kube.version()
        kube.get("/api/v1/namespaces/default")
        runs = int(counter.read_text())
        time.sleep(3)  # past the credential's expirationTimestamp
        kube.get("/api/v1/namespaces/default")
        assert int(counter.read_text()) > runs  # fetched again, not reused after expiry

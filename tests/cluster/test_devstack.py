"""The dev stack keeps the cluster's objects across `cluster down` / `cluster up` unless told --clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.control_plane import missing_binaries

pytestmark = pytest.mark.cluster
DEVSTACK = Path(__file__).resolve().parents[2] / "scripts" / "devstack.py"


def _stack(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(DEVSTACK), "cluster", *args], capture_output=True, text=True,
                          env={**os.environ, "TKE_CATALOG_DEVSTACK": str(state)}, timeout=180, check=False)


def _kubectl_get(kubeconfig: str, name: str) -> bool:
    from toolkit.adapters.kube.client import ClusterAccess, connect

    with connect(ClusterAccess(kubeconfig=kubeconfig)) as kube:
        return kube.get(f"/api/v1/namespaces/default/configmaps/{name}") is not None


def test_etcd_data_survives_a_restart_unless_clean(tmp_path: Path) -> None:
    if missing_binaries():
        pytest.skip("control-plane binaries missing")
    try:
        up = _stack(tmp_path, "up", "--ttl", "300")
        assert up.returncode == 0, up.stderr
        kubeconfig = up.stdout.strip()
        from toolkit.adapters.kube.client import ClusterAccess, connect

        with connect(ClusterAccess(kubeconfig=kubeconfig)) as kube:
            kube.request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "kept"}})
        assert _stack(tmp_path, "down").returncode == 0
        again = _stack(tmp_path, "up", "--ttl", "300")
        assert again.returncode == 0, again.stderr
        assert _kubectl_get(again.stdout.strip(), "kept")
        assert _stack(tmp_path, "down").returncode == 0
        clean = _stack(tmp_path, "up", "--ttl", "300", "--clean")
        assert clean.returncode == 0, clean.stderr
        assert not _kubectl_get(clean.stdout.strip(), "kept")
    finally:
        _stack(tmp_path, "down", "--clean")

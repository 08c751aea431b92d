"""pytest fixtures for tests against a real Kubernetes API server and the real helm CLI.

Missing binaries skip the test with the set-up command to run, except in CI (`CI=true`), where they
fail it: CI must never pass by skipping its integration tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.control_plane import OLDEST_APISERVER, ControlPlane, missing_binaries
from tests.support.registry_fixtures import require_helm

__all__ = ["HelmEnv", "control_plane", "helm_env", "realistic_control_plane"]

# Servers started by the fixtures end themselves after this long even if pytest is killed hard.
SESSION_TTL_SECONDS = 3 * 3600


def _require(missing: list[str], setup_step: str) -> None:
    """Skip (or, with CI=true, fail) the current test when any of `missing` is absent."""
    if not missing:
        return
    reason = f"missing {', '.join(missing)}: run `scripts/setup.sh {setup_step}` first"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def _start(tmp_path_factory: pytest.TempPathFactory, *, realism: bool) -> Iterator[ControlPlane]:
    _require(missing_binaries(realism=realism), "control-plane")
    folder = tmp_path_factory.mktemp("realistic-control-plane" if realism else "control-plane")
    with ControlPlane(folder, realism=realism, ttl=SESSION_TTL_SECONDS) as plane:
        yield plane


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """etcd + kube-apiserver for the whole session: no controllers, so nothing ever becomes Ready."""
    yield from _start(tmp_path_factory, realism=False)


@pytest.fixture(scope="session")
def realistic_control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """The control plane plus controller-manager, scheduler, kwok and a fake Node: pods turn Ready."""
    yield from _start(tmp_path_factory, realism=True)


@pytest.fixture(scope="session")
def oldest_control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """etcd + the oldest kube-apiserver that builds here (1.29), for the version-matrix checks."""
    _require(missing_binaries(apiserver=OLDEST_APISERVER), "kube-oldest")
    with ControlPlane(tmp_path_factory.mktemp("oldest-control-plane"), ttl=SESSION_TTL_SECONDS,
                      apiserver=OLDEST_APISERVER) as plane:
        yield plane


@dataclass(frozen=True)
class HelmEnv:
    """The helm binary, the cluster it talks to and the isolated helm folders of one test."""

    helm: Path
    control_plane: ControlPlane
    kubeconfig: Path
    config_home: Path
    cache_home: Path
    data_home: Path
    registry_config: Path

    @property
    def env(self) -> dict[str, str]:
        """The variables the fixture set, for subprocesses started with an explicit environment."""
        return {
            "HELM_CONFIG_HOME": str(self.config_home),
            "HELM_CACHE_HOME": str(self.cache_home),
            "HELM_DATA_HOME": str(self.data_home),
            "HELM_REGISTRY_CONFIG": str(self.registry_config),
            "KUBECONFIG": str(self.kubeconfig),
        }


@pytest.fixture
def helm_env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HelmEnv:
    """Isolated helm homes and KUBECONFIG (via monkeypatch.setenv) for one test.

    Points at `realistic_control_plane` when the test also asks for it, else at `control_plane`.
    """
    plane_fixture = "realistic_control_plane" if "realistic_control_plane" in request.fixturenames else "control_plane"
    plane: ControlPlane = request.getfixturevalue(plane_fixture)
    return make_helm_env(plane, tmp_path / "helm-home", monkeypatch)


def make_helm_env(plane: ControlPlane, root: Path, monkeypatch: pytest.MonkeyPatch) -> HelmEnv:
    """Isolated helm homes in `root` and KUBECONFIG for `plane` (set with monkeypatch)."""
    helm = require_helm()
    environment = HelmEnv(
        helm=helm,
        control_plane=plane,
        kubeconfig=plane.kubeconfig,
        config_home=root / "config",
        cache_home=root / "cache",
        data_home=root / "data",
        registry_config=root / "config" / "registry" / "config.json",
    )
    for folder in (environment.config_home, environment.cache_home, environment.data_home):
        folder.mkdir(parents=True, exist_ok=True)
    for name, value in environment.env.items():
        monkeypatch.setenv(name, value)
    return environment

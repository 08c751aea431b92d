"""pytest fixtures for the real OCI registry: one per variant per session, and fresh ones on demand."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.process import binary
from tests.support.registry import RegistryServer, start_registry

__all__ = ["HELM_UNDER_TEST_ENV", "fresh_registry", "registry", "require_binary", "require_helm"]

HELM_UNDER_TEST_ENV = "TKE_CATALOG_TEST_HELM"
"""Which helm the helm-facing tests run: a binary name in the cache or on PATH (`helm` = v3, the
default; `helm4`), or a path. `.ci/run` runs the helm-marked tests once more with `helm4`."""


def require_binary(name: str, setup_step: str) -> Path:
    """The binary's path; skip when absent, except in CI where a missing binary fails the test."""
    path = binary(name)
    if path is None:
        message = f"{name} not found: run `scripts/setup.sh {setup_step}`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def require_helm() -> Path:
    """The helm under test (see HELM_UNDER_TEST_ENV); skip when absent, fail in CI."""
    wanted = os.environ.get(HELM_UNDER_TEST_ENV) or "helm"
    if os.sep in wanted:
        path = Path(wanted)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        message = f"{HELM_UNDER_TEST_ENV}={wanted} is not an executable file"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return require_binary(wanted, "helm4" if wanted == "helm4" else "helm")


@pytest.fixture(scope="session", params=["plain", "basic", "tls"])
def registry(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A running registry, once per variant for the session (tests must use their own repository paths)."""
    require_binary("docker-registry", "registry")
    server = start_registry(tmp_path_factory.mktemp(f"registry-{request.param}"), request.param)
    yield server
    server.stop()


@pytest.fixture
def fresh_registry(tmp_path: Path) -> Iterator[Callable[[str], RegistryServer]]:
    """A factory for registries that live for one test (for kills, restarts and request counting)."""
    require_binary("docker-registry", "registry")
    started: list[RegistryServer] = []

    def _start(variant: str = "plain") -> RegistryServer:
        server = start_registry(tmp_path / f"registry-{variant}-{len(started)}", variant)
        started.append(server)
        return server

    yield _start
    for server in reversed(started):
        server.stop()

"""pytest fixtures for the real OCI registry: one per variant per session, and fresh ones on demand."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.process import binary
from tests.support.registry import RegistryServer, start_registry

__all__ = ["fresh_registry", "registry", "require_binary"]


def require_binary(name: str, setup_step: str) -> Path:
    """The binary's path; skip when absent, except in CI where a missing binary fails the test."""
    path = binary(name)
    if path is None:
        message = f"{name} not found: run `scripts/setup.sh {setup_step}`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


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

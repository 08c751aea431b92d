"""Fixtures shared by the whole suite: real registries, the real control plane and isolated helm homes."""

from __future__ import annotations

from tests.support.cluster_fixtures import (
    control_plane,
    helm_env,
    oldest_control_plane,
    realistic_control_plane,
)
from tests.support.registry_fixtures import fresh_registry, registry

__all__ = ["control_plane", "fresh_registry", "helm_env", "oldest_control_plane", "realistic_control_plane", "registry"]

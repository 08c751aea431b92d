"""Fixtures shared by the whole suite: real registries, helm homes and (later) the control plane."""

from __future__ import annotations

from tests.support.registry_fixtures import fresh_registry, registry

__all__ = ["fresh_registry", "registry"]

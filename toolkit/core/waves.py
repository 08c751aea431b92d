"""The plan's waves: longest-path levels over the dependency graph, each catalog tier starting after
the lower ones (node configuration, network, cluster services, addons)."""

from __future__ import annotations

from collections.abc import Mapping

from toolkit.core.graph import levels, topological_order
from toolkit.core.wanted import WantedApp

__all__ = ["plan_waves"]


def plan_waves(wanted: Mapping[str, WantedApp]) -> dict[str, int]:
    """Longest-path levels over the dependency graph, with each tier starting after the lower ones.

    A release's effective tier is the highest of its own and its dependencies' (a dependency in a later
    tier pulls its dependents along); within a tier, levels count from one past the lower tiers' last wave.
    """
    deps = {key: item.deps for key, item in wanted.items()}
    effective: dict[str, int] = {}
    for key in topological_order(deps):
        effective[key] = max([wanted[key].tier, *(effective[d] for d in deps[key] if d in effective)])
    waves: dict[str, int] = {}
    floor = 0
    for tier in sorted(set(effective.values())):
        members = {k: [d for d in deps[k] if effective.get(d) == tier] for k in deps if effective[k] == tier}
        for key, level in levels(members).items():
            waves[key] = floor + level
        floor = max(waves.values(), default=-1) + 1
    return waves

"""When a release may start: its own dependencies, and the catalog's tiers as start barriers (node
configuration, network, cluster services, addons). The plan's WAVE column and apply's scheduler both
read `start_rules`, so what the plan shows is what apply does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from toolkit.core.graph import levels, topological_order

__all__ = ["StartRule", "effective_tiers", "plan_waves", "start_rules", "waves_of"]


@dataclass(frozen=True)
class StartRule:
    """`needs` must have succeeded (a failure skips this release); `after` must have finished, whatever
    the outcome (a barrier: the releases of every lower tier). Only a critical `after` that failed or
    was skipped stops this release too (the scheduler is told which releases are critical)."""

    needs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()

    @property
    def waits_for(self) -> tuple[str, ...]:
        return self.needs + self.after


def effective_tiers(deps: Mapping[str, Sequence[str]], tiers: Mapping[str, int]) -> dict[str, int]:
    """Each release's tier, raised to the highest of its dependencies' (a dependency in a later tier pulls
    its dependents along, or the release would wait for itself)."""
    known = {key: [d for d in deps[key] if d in deps] for key in deps}
    effective: dict[str, int] = {}
    for key in topological_order(known):
        effective[key] = max([tiers.get(key, 0), *(effective[d] for d in known[key])])
    return effective


def start_rules(deps: Mapping[str, Sequence[str]], tiers: Mapping[str, int]) -> dict[str, StartRule]:
    """For each release: the dependencies that must succeed and the lower-tier releases that must have
    finished before it starts. Dependencies outside `deps` are ignored (they are not in this run)."""
    effective = effective_tiers(deps, tiers)
    rules: dict[str, StartRule] = {}
    for key in deps:
        needs = tuple(d for d in deps[key] if d in deps)
        after = tuple(sorted(k for k, tier in effective.items() if tier < effective[key] and k not in needs))
        rules[key] = StartRule(needs, after)
    return rules


def waves_of(rules: Mapping[str, StartRule]) -> dict[str, int]:
    """Longest-path level of each release over everything it waits for: its wave."""
    return levels({key: rule.waits_for for key, rule in rules.items()})


def plan_waves(deps: Mapping[str, Sequence[str]], tiers: Mapping[str, int]) -> dict[str, int]:
    """The plan's waves: the levels of `start_rules`, the graph apply's scheduler runs."""
    return waves_of(start_rules(deps, tiers))

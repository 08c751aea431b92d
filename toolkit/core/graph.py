"""Dependency graphs, through the standard library's `graphlib`: cycles and longest-path levels.

A graph maps each node to the nodes it depends on (that must come first); edges to nodes the graph
does not hold are ignored.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Iterable, Mapping

__all__ = ["find_cycle", "levels", "topological_order"]


def _known(graph: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    return {node: [d for d in deps if d in graph] for node, deps in sorted(graph.items())}


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One dependency cycle as `[a, b, ..., a]` (a depends on b ...), or None."""
    try:
        graphlib.TopologicalSorter(_known(graph)).prepare()
    except graphlib.CycleError as exc:
        cycle: list[str] = list(exc.args[1])
        return cycle[::-1]  # graphlib lists each node before the one that depends on it
    return None


def topological_order(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Every node after all of its dependencies; raises graphlib.CycleError on a cycle."""
    return list(graphlib.TopologicalSorter(_known(graph)).static_order())


def levels(graph: Mapping[str, Iterable[str]], floor: Callable[[str, dict[str, int]], int] | None = None
           ) -> dict[str, int]:
    """Longest-path level of each node: one more than its deepest dependency, 0 for none, and never
    below `floor(node, levels so far)` when given."""
    known = _known(graph)
    out: dict[str, int] = {}
    for node in topological_order(known):
        level = max((out[d] + 1 for d in known[node]), default=0)
        out[node] = max(level, floor(node, out)) if floor is not None else level
    return out

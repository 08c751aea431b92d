"""The support matrix: for every catalog app and every Kubernetes minor we support, the chart version the
planner would choose (the newest whose `kubeVersion` admits that minor), or none. Pure.

The same rule picks the version in a plan (`chart_choice`): this table is what users read before they
plan, and the README's copy is generated from it (and tested against it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from toolkit.core.semver_range import best_match
from toolkit.errors import InputError

__all__ = ["KUBERNETES_MINORS", "KUBERNETES_RELEASES", "MatrixRow", "render_markdown", "render_text", "support_matrix"]

KUBERNETES_MINORS: tuple[int, ...] = tuple(range(19, 37))
"""1.19 (the oldest TKEStack 1.8 ships) to 1.36 (the newest GA minor our test bed builds)."""

KUBERNETES_RELEASES: Mapping[int, str] = {
    19: "1.19.16", 20: "1.20.15", 21: "1.21.14", 22: "1.22.17", 23: "1.23.17", 24: "1.24.17", 25: "1.25.16",
    26: "1.26.15", 27: "1.27.16", 28: "1.28.15", 29: "1.29.15", 30: "1.30.14", 31: "1.31.14", 32: "1.32.13",
    33: "1.33.13", 34: "1.34.4", 35: "1.35.4", 36: "1.36.3",
}
"""The patch release of each minor whose API (its OpenAPI document) the checks use: the newest the Go
module proxy serves as `k8s.io/kubernetes`, fetched into `schemas/kubernetes/` by
`scripts/fetch-api-specs.py`."""


@dataclass(frozen=True)
class MatrixRow:
    """One app: the chart version chosen per minor (None: no chart version of the app supports it)."""

    app: str
    chart: str
    chosen: Mapping[int, str | None]

    def as_dict(self) -> dict[str, object]:
        return {"app": self.app, "chart": self.chart,
                "versions": {f"1.{minor}": version for minor, version in self.chosen.items()}}


def _admits(kube_range: str | None, minor: int) -> bool:
    if not kube_range:
        return True
    try:
        return best_match(kube_range, [f"1.{minor}.0"]) is not None
    except InputError:
        return True  # a malformed kubeVersion is lint's to report


def support_matrix(apps: Sequence[tuple[str, str, Sequence[tuple[str, str | None]]]],
                   minors: Sequence[int] = KUBERNETES_MINORS) -> list[MatrixRow]:
    """`apps` = (app, chart name, [(chart version, kubeVersion range)]) → one row per app."""
    rows = []
    for app, chart, versions in apps:
        chosen: dict[int, str | None] = {}
        for minor in minors:
            fitting = [version for version, kube in versions if _admits(kube, minor)]
            chosen[minor] = best_match("*", fitting) if fitting else None
        rows.append(MatrixRow(app, chart, chosen))
    return rows


def _cell(row: MatrixRow, minor: int) -> str:
    version = row.chosen.get(minor)
    return version if version is not None else "-"


def render_text(rows: Sequence[MatrixRow], minors: Sequence[int] = KUBERNETES_MINORS) -> str:
    """A terminal table: apps down, Kubernetes minors across."""
    header = ["APP", *(f"1.{m}" for m in minors)]
    table = [header, *([row.app, *(_cell(row, m) for m in minors)] for row in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in table)


def render_markdown(rows: Sequence[MatrixRow], minors: Sequence[int] = KUBERNETES_MINORS) -> str:
    """The README's table (`-`: the app has no chart version for that minor)."""
    lines = ["| app | " + " | ".join(f"1.{m}" for m in minors) + " |",
             "|---|" + "---|" * len(minors)]
    lines += ["| " + row.app + " | " + " | ".join(_cell(row, m) for m in minors) + " |" for row in rows]
    return "\n".join(lines)

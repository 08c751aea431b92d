"""The `plan` verb: Cluster file (+ installed state) → ReleasePlan, and its rendered forms."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from toolkit.actions.validate import parse_cluster_text
from toolkit.adapters.files import read_text, write_atomic
from toolkit.adapters.project import load_catalog, load_schema
from toolkit.core.cluster import Cluster
from toolkit.core.findings import Finding, has_errors, plan_rejected
from toolkit.core.model import (
    ChartSource,
    InstalledRelease,
    InstalledState,
    ReleasePlan,
)
from toolkit.core.plan import resolve_plan
from toolkit.core.plan_render import plan_as_dict, render_table
from toolkit.core.schema import validate_instance
from toolkit.core.yamldoc import dump_plain, parse_yaml, to_plain
from toolkit.errors import InputError, PlanRejected

__all__ = ["PlanOutcome", "cluster_kube_version", "load_state", "parse_state", "render_plan", "run_plan", "write_plan"]


@dataclass(frozen=True)
class PlanOutcome:
    """The plan and the notes met on the way (warnings and infos; errors raise PlanRejected)."""

    plan: ReleasePlan
    findings: tuple[Finding, ...]
    state: InstalledState | None = None


def parse_state(text: str, source: str, schema: dict[str, Any]) -> InstalledState:
    """An installed-state document (JSON or YAML) → InstalledState; every problem raises one PlanRejected."""
    tree = parse_yaml(text, source)
    data = to_plain(tree)
    findings = validate_instance(data, schema, file=source, source_root=tree, rule="state-schema")
    if findings:
        raise plan_rejected(findings, source)
    releases = tuple(
        InstalledRelease(name=r["name"], namespace=r["namespace"], chart=r["chart"], version=r["version"],
                         digest=r.get("digest", ""), values=r.get("values") or {}, status=r.get("status", "deployed"))
        for r in data["releases"]
    )
    return InstalledState(cluster=data["cluster"], releases=releases)


def load_state(path: Path, root: Path) -> InstalledState:
    """Read the state file written by apply (or by hand)."""
    return parse_state(read_text(path), str(path), load_schema(root, "state.schema.json"))


def run_plan(
    cluster_path: Path,
    *,
    catalog_root: Path,
    state_path: Path | None = None,
    allow_critical_removal: bool = False,
    charts: ChartSource | None = None,
    image_registry: str | None = None,
    state: InstalledState | None = None,
    state_from: Callable[[str, set[str]], InstalledState] | None = None,
    helm_major: int | Callable[[], int] = 3,
    take_over: frozenset[str] = frozenset(),
    unowned_from: Callable[[ReleasePlan], dict[str, tuple[str, ...]]] | None = None,
    live_from: Callable[[Cluster, ReleasePlan], list[Finding]] | None = None,
) -> PlanOutcome:
    """The `plan` verb. Raises PlanRejected (every error finding), CatalogInvalid or InputError.

    The installed state comes from `state`, a state file, or `state_from(cluster name, the namespaces its
    releases go to)` (a live cluster, read as apply reads it); `unowned_from(plan)` names, per release
    the plan installs, the objects that already exist without helm's ownership (then the plan is made
    again with them: an adoption needs consent); `live_from(cluster, plan)` holds the plan against the live
    cluster's facts (its errors reject the plan, its warnings join the findings);
    `values[]` (`--set` syntax) is read the way the helm of `helm_major` reads it (a callable is asked
    after the installed state was read: a live session knows its helm).
    """
    from toolkit.adapters.chart_dirs import CatalogChartSource

    root = catalog_root
    catalog = load_catalog(root)
    source = str(cluster_path)
    parsed = parse_cluster_text(read_text(cluster_path), source, root)
    if parsed.cluster is None or has_errors(parsed.findings):
        raise plan_rejected(parsed.findings, source)
    if state_path is not None:
        state = load_state(state_path, root)
    elif state_from is not None:
        where = resolve_plan(parsed.cluster, catalog, charts if charts is not None else CatalogChartSource(root),
                             allow_critical_removal=True, image_registry=image_registry, take_over=take_over,
                             helm_major=3)
        state = state_from(parsed.cluster.name, {r.namespace for r in where.releases})
    if state is not None and state.cluster and state.cluster != parsed.cluster.name:
        raise InputError(f"{state_path}: state of cluster `{state.cluster}`, not `{parsed.cluster.name}`",
                         hint="pass the state file of this Cluster")
    source_charts = charts if charts is not None else CatalogChartSource(root)
    try:
        plan = resolve_plan(parsed.cluster, catalog, source_charts, state=state,
                            allow_critical_removal=allow_critical_removal, image_registry=image_registry,
                            helm_major=helm_major() if callable(helm_major) else helm_major, take_over=take_over)
        found = unowned_from(plan) if unowned_from is not None and state is not None else {}
        if found and state is not None:
            state = replace(state, unowned=found)
            plan = resolve_plan(parsed.cluster, catalog, source_charts, state=state,
                                allow_critical_removal=allow_critical_removal, image_registry=image_registry,
                                helm_major=helm_major() if callable(helm_major) else helm_major, take_over=take_over)
        live = live_from(parsed.cluster, plan) if live_from is not None else []
        if has_errors(live):
            raise plan_rejected([*plan.findings, *live], source)
    except PlanRejected as exc:
        raise plan_rejected([*parsed.findings, *exc.findings], source) from None
    return PlanOutcome(plan, (*parsed.findings, *plan.findings, *live), state)


def render_plan(plan: ReleasePlan, output: str, findings: Sequence[Finding] | None = None) -> str:
    """The plan as `table`, `json` or `yaml` (secrets redacted in every form); the documents carry
    `findings` (default: the plan's own)."""
    if output == "table":
        return render_table(plan)
    data = plan_as_dict(plan, include_values=output != "table", findings=findings)
    if output == "json":
        return json.dumps(data, indent=2, sort_keys=False)
    if output == "yaml":
        return dump_plain(data)
    raise InputError(f"unknown output format {output!r}", hint="use table, json or yaml")


def write_plan(outcome: PlanOutcome, path: Path, cluster_file: Path) -> None:
    """Write the saved plan (values redacted; digests `apply PLAN.json` checks) to `path` atomically."""
    from toolkit.core.saved_plan import saved_plan_document

    document = saved_plan_document(outcome.plan, state=outcome.state, cluster_file=cluster_file.resolve(),
                                   cluster_text=read_text(cluster_file))
    try:
        # owner-only: the plan lists every release's values (secret-looking keys redacted, the rest not)
        write_atomic(path, (json.dumps(document, indent=2) + "\n").encode(), mode=0o600)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write the plan there ({exc.strerror or exc})",
                         hint="name a file in a folder that exists and that you may write") from exc


def cluster_kube_version(cluster_path: Path, root: Path) -> str:
    """The Cluster's Kubernetes as helm's --kube-version takes it (1.21.4-tke.1 → 1.21.4)."""
    parsed = parse_cluster_text(read_text(cluster_path), str(cluster_path), root)
    assert parsed.cluster is not None  # run_plan refused it otherwise
    major, minor, patch = parsed.cluster.kube_version
    return f"{major}.{minor}.{patch}"

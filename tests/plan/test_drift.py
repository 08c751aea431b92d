"""Drift and ownership in the plan (pure): what helm's own records say against what we recorded, a
release someone else installed, a lost inventory rebuilt from our marks."""

from __future__ import annotations

from dataclasses import replace

from tests.plan.conftest import ROOT, cluster_from_text
from toolkit.adapters.chart_dirs import ChainedChartSource
from toolkit.core.catalog import Catalog
from toolkit.core.model import Action, InstalledRelease, InstalledState, ReleasePlan
from toolkit.core.plan import resolve_plan
from toolkit.core.plan_render import plan_as_dict, render_table

EXAMPLE = (ROOT / "examples/cluster.yaml").read_text()


def live_state(plan: ReleasePlan, **changes: InstalledRelease) -> InstalledState:
    """The state as apply reads it right after applying `plan` (helm's records plus our inventory)."""
    releases = []
    for r in plan.releases:
        installed = InstalledRelease(r.name, r.namespace, r.chart, r.version, r.digest, r.values, "deployed",
                                     revision=1, recorded_revision=1, recorded_values=r.values,
                                     owner=plan.cluster, live=True)
        releases.append(changes.get(r.name, installed))
    return InstalledState(plan.cluster, tuple(releases), frozenset(f"{r.namespace}/{r.name}" for r in plan.releases))


def _by_name(plan: ReleasePlan) -> dict[str, object]:
    return {r.name: r for r in plan.releases}


def test_values_changed_by_hand_are_drift_with_old_and_new(catalog: Catalog, charts: ChainedChartSource) -> None:
    first = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts)
    tapp = first.get("tapp-controller")
    assert tapp is not None
    by_hand = {**tapp.values, "logLevel": 9}
    state = live_state(first, **{"tapp-controller": InstalledRelease(
        tapp.name, tapp.namespace, tapp.chart, tapp.version, tapp.digest, by_hand, "deployed", revision=2,
        recorded_revision=1, recorded_values=tapp.values, owner=first.cluster, live=True,
        installed_by="Upgrade complete")})
    plan = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts, state=state)
    again = plan.get("tapp-controller")
    assert again is not None and again.action is Action.UPGRADE
    assert any("changed outside tke-catalog" in d or "revision 1 → 2" in d for d in (again.reason, *again.drift))
    assert ("$.logLevel", 9, 2) in again.value_changes
    assert "~ $.logLevel: 9 → 2" in render_table(plan)
    assert plan_as_dict(plan)["releases"][[r.name for r in plan.releases].index("tapp-controller")][
        "changedOutsideTkeCatalog"]
    assert {r.action for r in plan.releases if r.name != "tapp-controller"} == {Action.NOOP}


def test_a_deleted_object_is_drift(catalog: Catalog, charts: ChainedChartSource) -> None:
    first = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts)
    cron = first.get("cron-hpa")
    assert cron is not None
    state = live_state(first)
    hurt = replace(next(r for r in state.releases if r.name == "cron-hpa"), missing_objects=("Deployment/cron-hpa",))
    state = replace(state, releases=tuple(hurt if r.name == "cron-hpa" else r for r in state.releases))
    again = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts, state=state).get("cron-hpa")
    assert again is not None and again.action is Action.UPGRADE
    assert "1 object(s) deleted: Deployment/cron-hpa" in again.reason


def test_a_foreign_release_is_a_conflict_until_consent_with_the_real_diff(catalog: Catalog,
                                                                         charts: ChainedChartSource) -> None:
    first = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts)
    tapp = first.get("tapp-controller")
    assert tapp is not None
    # installed with plain helm: helm holds only the user's own two values
    theirs = InstalledRelease(tapp.name, tapp.namespace, tapp.chart, tapp.version, "", {"logLevel": 7, "extra": 1},
                              "deployed", revision=3, live=True, installed_by="Install complete")
    state = InstalledState(first.cluster, (theirs,), frozenset())
    refused = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts, state=state).get("tapp-controller")
    assert refused is not None and refused.action is Action.CONFLICT and refused.foreign == "Install complete"
    taken = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts, state=state,
                         take_over=frozenset({"tapp-controller"})).get("tapp-controller")
    assert taken is not None and taken.action is Action.UPGRADE and taken.take_over
    assert {path for path, _, _ in taken.value_changes} == {"$.logLevel", "$.extra"}  # the real two, not all
    # and never pruned: a foreign release the Cluster does not want is left alone, even with --prune
    stray = InstalledRelease("stray", "default", "stray", "1.0.0", "", {}, "deployed", live=True)
    plan = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts, state=replace(state, releases=(theirs, stray)),
                        allow_critical_removal=True)
    assert plan.get("stray") is None


def test_a_lost_inventory_is_rebuilt_from_our_marks_without_upgrades(catalog: Catalog,
                                                                    charts: ChainedChartSource) -> None:
    first = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts)
    lost = live_state(first)
    lost = replace(lost, inventory=frozenset(), releases=tuple(
        replace(r, recorded_revision=None, recorded_values=None, digest="") for r in lost.releases))
    plan = resolve_plan(cluster_from_text(EXAMPLE), catalog, charts, state=lost)
    assert {r.action for r in plan.releases} == {Action.NOOP}

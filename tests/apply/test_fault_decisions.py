"""apply under the faults an operator causes, fast: the real run_apply, Inventory and ApplyLock over the
recording fakes. Each also runs against the real API server and helm in test_apply_faults.py."""

from __future__ import annotations

import base64
import copy
from pathlib import Path

import pytest

from tests.apply.test_decisions import NAMES, World, outcomes
from tests.support.fakes import FakeRecords
from toolkit.core.helm_release import HOLDER_LABEL, OWNER_LABEL, ReleaseObject
from toolkit.errors import InventoryCorrupt, ObjectConflict

LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/tke-catalog-apply-cls-apply"
INVENTORY = "/api/v1/namespaces/kube-system/secrets/tke-catalog-inventory-cls-apply"


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_a_deleted_lease_stops_the_apply_before_its_next_write(world: World) -> None:
    calls_before_loss = 2
    original = world.helm.upgrade_install

    def deleting_after_two(*args: object, **kwargs: object) -> dict[str, object]:
        answer = original(*args, **kwargs)  # type: ignore[arg-type]
        if len(world.helm.verbs("upgrade_install")) == calls_before_loss:
            world.kube.request("DELETE", LEASES)  # someone deletes the Lease; a second apply may take it
        return answer

    world.helm.upgrade_install = deleting_after_two  # type: ignore[method-assign]
    result = world.apply(concurrency=1)
    assert result.lease_lost is not None and "deleted" in result.lease_lost
    assert len(world.helm.verbs("upgrade_install")) == calls_before_loss  # nothing more after the loss
    assert not result.ok
    assert any(r.error and "Lease" in r.error for r in result.releases)


def test_values_changed_by_hand_are_upgraded_back(world: World) -> None:
    world.apply()
    history = world.helm.releases[("addons", "addon-a")]
    hand = copy.deepcopy(history[-1])
    hand.revision, hand.values, hand.description = 2, {**hand.values, "logLevel": 9}, "Upgrade complete"
    history[-1].status = "superseded"
    history.append(hand)
    world.helm.calls.clear()
    again = world.apply()
    assert outcomes(again)["addon-a"] == "upgraded"
    assert "logLevel" not in world.helm.releases[("addons", "addon-a")][-1].values
    plan = again.plan
    assert plan is not None and any("changed outside tke-catalog" in r.reason for r in plan.releases)
    assert set(outcomes(world.apply()).values()) == {"unchanged"}


def test_a_deleted_object_is_repaired(world: World) -> None:
    records = FakeRecords(world.helm)
    world.apply()
    records.gone[("addons", "addon-b")] = [ReleaseObject("v1", "ConfigMap", "addon-b-config", "addons")]
    from tests.support.fakes import fake_session
    from toolkit.actions.apply import ApplyOptions, run_apply

    def apply(check: bool) -> dict[str, str]:
        return outcomes(run_apply(world.cluster_file, session=fake_session(world.helm, world.kube, records),
                                  root=world.root, cache=world.cache,
                                  options=ApplyOptions(wait=False, check_objects=check),
                                  allow_critical_removal=False, confirm=lambda plan: True, progress=print))

    assert apply(check=False)["addon-b"] == "unchanged"  # the check is what sees it
    assert apply(check=True)["addon-b"] == "upgraded"


def test_a_foreign_release_is_refused_then_taken_over_only_with_consent(world: World) -> None:
    world.helm.install_as("addons", "addon-a", "addon-a-1.0.0", {"greeting": "mine"}, description="Install complete")
    refused = world.apply()
    assert outcomes(refused)["addon-a"] == "refused" and outcomes(refused)["addon-b"] == "skipped"
    assert refused.refused_only
    assert world.helm.releases[("addons", "addon-a")][-1].values == {"greeting": "mine"}  # untouched
    assert "addon-a" not in world.inventory()
    world.edit("  features:\n", "  features:\n    disabledApps: []\n")
    taken = world.apply(take_over=frozenset({"addon-a"}))
    assert outcomes(taken)["addon-a"] == "upgraded" and taken.ok
    assert world.helm.releases[("addons", "addon-a")][-1].labels[OWNER_LABEL] == "cls-apply"
    assert "addon-a" in world.inventory()


def test_a_foreign_release_is_never_pruned(world: World) -> None:
    world.apply()
    world.helm.install_as("addons", "stranger", "stranger-1.0.0", {}, description="Install complete")
    result = world.apply(prune=True)
    assert "stranger" not in outcomes(result)
    assert ("addons", "stranger") in world.helm.releases


def test_an_emptied_inventory_is_rebuilt_from_the_marks_without_upgrades(world: World) -> None:
    world.apply()
    world.kube.request("DELETE", INVENTORY)
    world.helm.calls.clear()
    result = world.apply()
    assert set(outcomes(result).values()) == {"recorded"}
    assert world.helm.verbs("upgrade_install", "uninstall", "rollback") == []
    assert world.inventory() == sorted(NAMES)
    assert set(outcomes(world.apply()).values()) == {"unchanged"}


def test_a_corrupt_inventory_is_a_clear_error_and_can_be_rebuilt(world: World) -> None:
    world.apply()
    secret = world.kube.objects[INVENTORY]
    secret["data"]["inventory.json"] = base64.b64encode(b"{not json").decode()
    with pytest.raises(InventoryCorrupt, match="tke-catalog-inventory-cls-apply") as refused:
        world.apply()
    assert "--rebuild-inventory" in (refused.value.hint or "")
    rebuilt = world.apply(rebuild_inventory=True)
    assert set(outcomes(rebuilt).values()) == {"recorded"} and world.inventory() == sorted(NAMES)


def test_an_inventory_write_that_keeps_failing_is_installed_not_recorded(world: World,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.adapters.kube.inventory import Inventory

    def failing(self: Inventory, entry: dict[str, object]) -> None:
        if entry["name"] == "addon-b":
            raise ObjectConflict("inventory kept changing under us")
        original(self, entry)

    original = Inventory.record
    monkeypatch.setattr(Inventory, "record", failing)
    monkeypatch.setattr("toolkit.actions.apply_release.time.sleep", lambda seconds: None)
    result = world.apply()
    assert outcomes(result)["addon-b"] == "installed, not recorded"
    assert ("addons", "addon-b") in world.helm.releases  # helm did install it
    monkeypatch.setattr(Inventory, "record", original)
    assert outcomes(world.apply())["addon-b"] == "recorded"  # found by its mark and recorded, no upgrade


def test_create_namespace_only_when_it_is_missing(world: World) -> None:
    records = FakeRecords(world.helm, namespaces={"kube-system"})
    from tests.support.fakes import fake_session
    from toolkit.actions.apply import ApplyOptions, run_apply

    run_apply(world.cluster_file, session=fake_session(world.helm, world.kube, records), root=world.root,
              cache=world.cache, options=ApplyOptions(wait=False), allow_critical_removal=False,
              confirm=lambda plan: True, progress=lambda line: None)
    assert world.helm.create_namespace == {"kube-system": False, "addons": True}


def test_a_pending_release_of_another_live_apply_is_left_alone(world: World) -> None:
    world.apply()
    import datetime

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    world.helm.releases[("addons", "addon-a")][-1].status = "superseded"
    world.helm.install_as("addons", "addon-a", "addon-a-1.0.0", status="pending-upgrade",
                          labels={OWNER_LABEL: "cls-apply", HOLDER_LABEL: "other.pid-1.x"}, description="Preparing upgrade",
                          when=now)
    world.helm.calls.clear()
    result = world.apply()
    assert ("rollback", "addons/addon-a") not in world.helm.calls
    assert "addons/addon-a" not in result.recovered

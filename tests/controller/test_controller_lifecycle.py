"""The controller against real API servers: a Cluster object's life (create, edits, an invalid edit,
deletion), and the faults an operator causes (a release uninstalled by hand, a killed controller, a
business cluster that goes away), judged by what helm recorded in the business clusters."""

from __future__ import annotations

import json
import time

import pytest

from tests.controller.conftest import (
    CLUSTERS,
    ControllerProcess,
    Fleet,
    app,
    unique,
    until,
)

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def test_create_edit_and_delete_a_cluster_installs_upgrades_and_uninstalls_in_its_business_cluster(
        fleet: Fleet, controller: ControllerProcess) -> None:
    name, ns = unique(), unique("ns")
    business, other = fleet.business
    created = fleet.create_cluster(name, business, [app("net", ns), app("addon-a", ns, "data.greeting=hi")])
    ready = fleet.ready(name, generation=created["metadata"]["generation"])
    releases = business.releases(ns)
    assert {k: v["status"] for k, v in releases.items()} == {"net": "deployed", "addon-a": "deployed"}
    assert business.config(ns, "addon-a")["data"]["greeting"] == "hi"  # type: ignore[index]
    assert other.releases(ns) == {}  # the other business cluster is untouched
    apps = {a["name"]: a for a in ready["status"]["apps"]}
    assert apps["addon-a"]["phase"] == "Succeeded" and apps["addon-a"]["revision"] == 1
    assert apps["addon-a"]["chart"] == "addon-a" and apps["addon-a"]["version"]
    assert "tke-catalog.io/apps" in ready["metadata"]["finalizers"]

    # add an app and change a value: an install and an upgrade, and the status follows the generation
    generation = fleet.set_apps(name, [app("net", ns), app("addon-a", ns, "data.greeting=hello"), app("addon-c", ns)])
    ready = fleet.ready(name, generation=generation)
    releases = business.releases(ns)
    assert releases["addon-a"]["revision"] == 2 and releases["addon-c"]["revision"] == 1
    assert releases["net"]["revision"] == 1  # unchanged: no new revision
    assert business.config(ns, "addon-a")["data"]["greeting"] == "hello"  # type: ignore[index]
    assert {a["name"] for a in ready["status"]["apps"]} == {"net", "addon-a", "addon-c"}

    # remove an app: uninstalled
    generation = fleet.set_apps(name, [app("net", ns), app("addon-a", ns, "data.greeting=hello")])
    ready = fleet.ready(name, generation=generation)
    assert set(business.releases(ns)) == {"net", "addon-a"}
    assert business.config(ns, "addon-c") is None
    assert {a["name"] for a in ready["status"]["apps"]} == {"net", "addon-a"}
    reasons = {e["reason"] for e in fleet.events(name)}
    assert {"Installed", "Upgraded", "Uninstalled"} <= reasons

    # delete: the finalizer uninstalls everything (the critical net last), then the object is gone
    fleet.delete_cluster(name)
    until(lambda: fleet.cluster(name) is None, 60, lambda: f"{name} still there: {fleet.cluster(name)}")
    assert business.releases(ns) == {}
    assert business.config(ns, "addon-a") is None


def test_an_invalid_edit_sets_a_condition_with_the_finding_and_changes_nothing(
        fleet: Fleet, controller: ControllerProcess) -> None:
    name, ns = unique(), unique("ns")
    business = fleet.business[0]
    fleet.create_cluster(name, business, [app("addon-a", ns, "data.greeting=hi")])
    fleet.ready(name)
    before = business.revisions(ns)
    # a typo the API server keeps (spec preserves unknown fields, and nulls, which Go reads as empty)
    fleet.patch_cluster(name, {"spec": {"bootstrapApps": [app("addon-a", ns, "data.greeting=changed")],
                                        "clusterCIDRR": "10.0.0.0/8"}})
    edited = fleet.management._checked("PATCH", f"{CLUSTERS}/{name}", headers={"Content-Type": "application/json-patch+json"},
                                       data=json.dumps([{"op": "add", "path": "/spec/dnsDomain", "value": None}]))
    generation = int(edited["metadata"]["generation"])
    stalled = fleet.wait_condition(name, "Stalled", generation=generation, reason="InvalidSpec")
    stored = fleet.cluster(name)
    assert stored is not None and stored["spec"]["clusterCIDRR"] == "10.0.0.0/8"
    assert "dnsDomain" in stored["spec"] and stored["spec"]["dnsDomain"] is None
    ready = next(c for c in stalled["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and ready["reason"] == "InvalidSpec"
    assert f"Cluster {name}: error: unknown field `clusterCIDRR` (at $.spec.clusterCIDRR)" in ready["message"]
    assert "did you mean `clusterCIDR`" in ready["message"]
    # an app the catalog does not have: found by the planner, the same refusal
    generation = int(fleet.patch_cluster(name, {"spec": {"clusterCIDRR": None, "bootstrapApps": [
        app("addon-a", ns, "data.greeting=changed"), app("no-such-app", ns)]}})["metadata"]["generation"])
    stalled = fleet.wait_condition(name, "Stalled", generation=generation, reason="InvalidSpec")
    ready = next(c for c in stalled["status"]["conditions"] if c["type"] == "Ready")
    assert "no-such-app" in ready["message"]
    assert any(e["reason"] == "InvalidSpec" and e["type"] == "Warning" for e in fleet.events(name))
    time.sleep(2)
    assert business.revisions(ns) == before  # nothing changed in the business cluster
    assert business.config(ns, "addon-a")["data"]["greeting"] == "hi"  # type: ignore[index]
    # fixing the edit converges again
    generation = fleet.set_apps(name, [app("addon-a", ns, "data.greeting=fixed")])
    fleet.ready(name, generation=generation, timeout=60)
    assert until(lambda: (business.config(ns, "addon-a") or {}).get("data", {}).get("greeting") == "fixed", 30,
                 lambda: "not upgraded after the fix")


def test_orphan_deletion_policy_keeps_the_apps(fleet: Fleet, controller: ControllerProcess) -> None:
    name, ns = unique(), unique("ns")
    business = fleet.business[1]
    fleet.create_cluster(name, business, [app("addon-a", ns)], annotations={"tke-catalog.io/deletion-policy": "orphan"})
    fleet.ready(name)
    fleet.delete_cluster(name)
    until(lambda: fleet.cluster(name) is None, 60, lambda: f"{name} still there")
    assert business.releases(ns)["addon-a"]["status"] == "deployed"


def test_a_release_uninstalled_by_hand_is_back_after_the_next_resync_and_a_quiet_resync_writes_nothing(
        fleet: Fleet, controller: ControllerProcess) -> None:
    import subprocess

    name, ns = unique(), unique("ns")
    business = fleet.business[0]
    fleet.create_cluster(name, business, [app("addon-a", ns), app("addon-c", ns)])
    fleet.ready(name)
    quiet = business.revisions(ns)
    time.sleep(8)  # more than one resync period (6 s) with nothing changed
    assert business.revisions(ns) == quiet  # no new revision, no helm write
    subprocess.run([str(fleet.helm), "uninstall", "addon-c", "--namespace", ns, "--kubeconfig", str(business.plane.kubeconfig)],
                   check=True, capture_output=True, env=fleet.env())
    assert "addon-c" not in business.releases(ns)
    # helm writes its record as pending-install first: wait for the install to finish, not to start
    until(lambda: (business.releases(ns).get("addon-c") or {}).get("status") == "deployed", 30,
          lambda: f"addon-c not reinstalled: {business.releases(ns).get('addon-c')}\n" + controller.process.tail())
    assert business.releases(ns)["addon-a"]["revision"] == quiet["addon-a"][-1]  # its neighbour untouched


def test_a_controller_killed_mid_apply_converges_after_restart_without_pending_releases(fleet: Fleet) -> None:
    name, ns = unique(), unique("ns")
    business = fleet.business[0]
    first = fleet.start_controller(name="killed")
    # a pre-install hook that never completes keeps addon-a in flight (pending-install) when the kill comes
    fleet.create_cluster(name, business, [app("addon-a", ns, "hook=true"), app("addon-c", ns)])
    until(lambda: business.releases(ns).get("addon-a", {}).get("status") == "pending-install", 60,
          lambda: f"addon-a never in flight: {business.releases(ns)}\n{first.process.tail()}")
    first.kill()
    fleet.controllers.remove(first)
    # the next controller recovers it; the edit drops the hook so the install can finish
    generation = fleet.set_apps(name, [app("addon-a", ns), app("addon-c", ns)])
    second = fleet.start_controller(name="restarted")
    try:
        fleet.ready(name, generation=generation, timeout=90)
        releases = business.releases(ns)
        assert {k: v["status"] for k, v in releases.items()} == {"addon-a": "deployed", "addon-c": "deployed"}
        revisions = business.revisions(ns)
        assert all(len(set(v)) == len(v) for v in revisions.values()), revisions  # no revision written twice
        settled = business.revisions(ns)
        time.sleep(8)
        assert business.revisions(ns) == settled  # converged: later resyncs add nothing
    finally:
        second.stop()
        fleet.controllers.remove(second)


def test_a_business_cluster_that_goes_down_sets_a_condition_is_retried_and_converges_when_back(
        fleet: Fleet, controller: ControllerProcess) -> None:
    name, ns = unique(), unique("ns")
    business = fleet.business[1]
    business.relay.down()
    try:
        fleet.create_cluster(name, business, [app("addon-a", ns)])
        down = fleet.wait_condition(name, "Ready", "False", reason="ClusterUnreachable", timeout=60)
        reconciling = next(c for c in down["status"]["conditions"] if c["type"] == "Reconciling")
        assert reconciling["status"] == "True"
        first_failures = down["status"]["failures"]
        again = until(lambda: ((fleet.cluster(name) or {}).get("status") or {}).get("failures", 0) > first_failures, 30,
                      lambda: "not retried")
        assert again
    finally:
        business.relay.up()
    fleet.ready(name, timeout=60)
    assert business.releases(ns)["addon-a"]["status"] == "deployed"
    metrics = json.dumps(controller.metric("tke_catalog_reconcile_failures_total"))
    assert float(metrics) >= 1

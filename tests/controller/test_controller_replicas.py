"""Two controller replicas share ten Clusters on two business API servers: every Cluster converges,
none is applied by both (helm would record a revision twice), and a replica killed hard loses its
Clusters to the other within the lease duration."""

from __future__ import annotations

import time

import pytest

from tests.controller.conftest import Fleet, app, unique, until

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

LEASE_SECONDS = 6  # the controllers' --lease-duration in these tests


def _holders(fleet: Fleet) -> dict[str, str]:
    leases = fleet.management.api_list("/apis/coordination.k8s.io/v1/namespaces/tke-catalog-system/leases",
                                       label_selector="tke-catalog.io/controller-role=owner")
    return {lease["metadata"]["annotations"]["tke-catalog.io/cluster"]: lease["spec"]["holderIdentity"]
            for lease in leases}


def test_two_replicas_converge_ten_clusters_without_acting_twice_and_take_over_a_dead_ones(fleet: Fleet) -> None:
    one = fleet.start_controller("--identity", f"replica-a-{unique('id')}", name="replica-a")
    two = fleet.start_controller("--identity", f"replica-b-{unique('id')}", name="replica-b")
    clusters = {}
    for index in range(10):
        name, ns = unique(), unique("ns")
        business = fleet.business[index % 2]
        fleet.create_cluster(name, business, [app("addon-a", ns), app("addon-b", ns)])
        clusters[name] = (business, ns)
    try:
        for name in clusters:
            fleet.ready(name, timeout=120)
        for name, (business, ns) in clusters.items():
            revisions = business.revisions(ns)
            assert revisions == {"addon-a": [1], "addon-b": [1]}, (name, revisions)  # one writer, once
        identities = {one.process.name: None, two.process.name: None}
        holders = until(lambda: (h := _holders(fleet)) and set(h) >= set(clusters) and h, 30,
                        lambda: f"not every Cluster owned: {_holders(fleet)}")
        owners = {holders[name] for name in clusters}
        assert len(owners) == 2, f"one replica did all the work: {holders}"  # the Clusters are shared
        del identities

        # kill one replica hard: the survivor takes its Clusters and keeps them converged
        victim_identity = next(iter(owners - {holders[next(iter(clusters))]}), None) or holders[next(iter(clusters))]
        victim = one if "replica-a" in victim_identity else two
        survivor = two if victim is one else one
        orphaned = [name for name in clusters if holders[name] == victim_identity]
        victim.kill()
        fleet.controllers.remove(victim)
        killed_at = time.monotonic()
        until(lambda: all(_holders(fleet).get(name, victim_identity) != victim_identity for name in orphaned),
              LEASE_SECONDS * 3, lambda: f"not taken over: {_holders(fleet)}\n{survivor.process.tail()}")
        assert time.monotonic() - killed_at <= LEASE_SECONDS * 3
        # an edit of a Cluster the dead replica had is carried out by the survivor
        edited = orphaned[0]
        business, ns = clusters[edited]
        generation = fleet.set_apps(edited, [app("addon-a", ns, "data.greeting=after")])
        fleet.ready(edited, generation=generation, timeout=60)
        assert business.config(ns, "addon-a")["data"]["greeting"] == "after"  # type: ignore[index]
        assert "addon-b" not in business.releases(ns)
    finally:
        for controller in (one, two):
            if controller in fleet.controllers:
                controller.stop()
                fleet.controllers.remove(controller)

"""Per-release scheduling: start on dependencies and tier barriers, not waves; skip dependents of
failures only, and everything behind a failed critical release; the plan's waves are the scheduler's."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping, Sequence

from toolkit.actions.schedule import JobStatus, run_graph
from toolkit.core.waves import StartRule, effective_tiers, plan_waves, start_rules


def needs_only(deps: Mapping[str, Sequence[str]]) -> dict[str, StartRule]:
    return {key: StartRule(needs=tuple(d)) for key, d in deps.items()}


def test_a_release_starts_when_its_own_dependencies_finish_not_the_wave() -> None:
    # slow and fast are both wave 0; after-fast depends only on fast and must start before slow ends.
    started: dict[str, float] = {}
    finished: dict[str, float] = {}

    def work(key: str) -> str:
        started[key] = time.monotonic()
        time.sleep({"slow": 0.5, "fast": 0.01, "after-fast": 0.01, "after-slow": 0.01}[key])
        finished[key] = time.monotonic()
        return key

    deps = {"slow": [], "fast": [], "after-fast": ["fast"], "after-slow": ["slow"]}
    outcomes = run_graph(needs_only(deps), work, concurrency=3)
    assert {k: o.status for k, o in outcomes.items()} == dict.fromkeys(deps, JobStatus.SUCCEEDED)
    assert started["after-fast"] < finished["slow"]
    assert started["after-slow"] >= finished["slow"]


def test_failure_skips_dependents_and_independents_go_on() -> None:
    def work(key: str) -> str:
        if key == "cni":
            raise RuntimeError("boom")
        return key

    deps = {"cni": [], "dns": ["cni"], "addon": ["dns"], "other": []}
    outcomes = run_graph(needs_only(deps), work, concurrency=2)
    assert outcomes["cni"].status is JobStatus.FAILED and str(outcomes["cni"].error) == "boom"
    assert outcomes["dns"].status is JobStatus.SKIPPED and outcomes["dns"].because == "cni"
    assert outcomes["addon"].status is JobStatus.SKIPPED and outcomes["addon"].because == "cni"
    assert outcomes["other"].status is JobStatus.SUCCEEDED


def test_concurrency_is_bounded() -> None:
    lock = threading.Lock()
    live, peak = 0, 0

    def work(key: str) -> None:
        nonlocal live, peak
        with lock:
            live += 1
            peak = max(peak, live)
        time.sleep(0.2)
        with lock:
            live -= 1

    run_graph(needs_only({str(i): [] for i in range(8)}), work, concurrency=3)
    assert peak == 3


def test_dependencies_outside_the_graph_count_as_satisfied_and_cycles_are_skipped() -> None:
    outcomes = run_graph(needs_only({"a": ["not-planned"], "x": ["y"], "y": ["x"]}), lambda k: k)
    assert outcomes["a"].status is JobStatus.SUCCEEDED
    assert outcomes["x"].status is JobStatus.SKIPPED and outcomes["x"].because == "dependency cycle"


NODE, NETWORK, CLUSTER, ADDON = range(4)


def test_tiers_are_barriers_even_without_dependencies() -> None:
    # The catalog's shape: nothing depends on the CNI explicitly, yet no addon may start before it ends.
    started: dict[str, float] = {}
    finished: dict[str, float] = {}

    def work(key: str) -> str:
        started[key] = time.monotonic()
        time.sleep(0.2 if key == "cilium" else 0.01)
        finished[key] = time.monotonic()
        return key

    deps: dict[str, list[str]] = {"containerd-config": [], "cilium": [], "coredns": [], "metrics": [], "gpu": []}
    tiers = {"containerd-config": NODE, "cilium": NETWORK, "coredns": CLUSTER, "metrics": ADDON, "gpu": ADDON}
    outcomes = run_graph(start_rules(deps, tiers), work, concurrency=8)
    assert all(o.status is JobStatus.SUCCEEDED for o in outcomes.values())
    assert finished["containerd-config"] <= started["cilium"]
    assert finished["cilium"] <= started["coredns"] <= finished["coredns"] <= min(started["metrics"], started["gpu"])
    assert abs(started["metrics"] - started["gpu"]) < 0.15  # the same tier starts together


def test_a_failed_critical_release_stops_later_tiers_a_non_critical_one_does_not() -> None:
    def work(key: str) -> str:
        if key in ("cilium", "node-tuning"):
            raise RuntimeError("boom")
        return key

    deps: dict[str, list[str]] = {"node-tuning": [], "cilium": [], "coredns": [], "addon": [], "other": ["addon"]}
    tiers = {"node-tuning": NODE, "cilium": NETWORK, "coredns": CLUSTER, "addon": ADDON, "other": ADDON}
    outcomes = run_graph(start_rules(deps, tiers), work, concurrency=4, critical=lambda k: k in ("cilium", "coredns"))
    assert outcomes["node-tuning"].status is JobStatus.FAILED  # not critical: the network tier still runs
    assert outcomes["cilium"].status is JobStatus.FAILED
    assert {k: (outcomes[k].status, outcomes[k].because) for k in ("coredns", "addon", "other")} == {
        "coredns": (JobStatus.SKIPPED, "cilium"), "addon": (JobStatus.SKIPPED, "cilium"),
        "other": (JobStatus.SKIPPED, "cilium")}


def test_a_dependency_in_a_later_tier_pulls_its_dependent_along() -> None:
    deps = {"cilium": ["addon"], "addon": []}
    assert effective_tiers(deps, {"cilium": NETWORK, "addon": ADDON}) == {"addon": ADDON, "cilium": ADDON}
    assert plan_waves(deps, {"cilium": NETWORK, "addon": ADDON}) == {"addon": 0, "cilium": 1}


def test_the_plans_waves_and_the_schedulers_start_order_never_disagree() -> None:
    """Random plans: every release starts only after everything of a lower (effective) tier and every
    dependency finished, and its wave is the longest path over exactly those, defined here anew."""
    rng = random.Random(20261202)
    for _ in range(60):
        keys = [f"r{i}" for i in range(rng.randint(1, 12))]
        deps = {k: [d for d in keys[:i] if rng.random() < 0.25] for i, k in enumerate(keys)}
        tiers = {k: rng.randrange(4) for k in keys}
        lock = threading.Lock()
        finished: set[str] = set()
        seen_finished: dict[str, set[str]] = {}

        def work(key: str) -> None:
            with lock:
                seen_finished[key] = set(finished)
            time.sleep(0.001)
            with lock:
                finished.add(key)

        run_graph(start_rules(deps, tiers), work, concurrency=len(keys))
        effective: dict[str, int] = {}
        for key in keys:  # deps point to earlier keys only: one pass raises tiers along chains
            effective[key] = max([tiers[key], *(effective[d] for d in deps[key])])
        waves = plan_waves(deps, tiers)
        for key in keys:
            before = {d for d in keys if effective[d] < effective[key]} | set(deps[key])
            assert before <= seen_finished[key], (deps, tiers, key)
            assert waves[key] == max((waves[d] + 1 for d in before), default=0), (deps, tiers, key)


def test_a_halting_failure_starts_nothing_more_and_skips_the_rest_with_its_reason() -> None:
    started: list[str] = []

    def work(key: str) -> str:
        started.append(key)
        if key == "a":
            raise RuntimeError("connection refused")
        return key

    outcomes = run_graph(needs_only({"a": [], "b": [], "c": []}), work, concurrency=1,
                         halt=lambda key, outcome: "the cluster stopped answering")
    assert started == ["a"]  # b and c were never handed to a worker, so never started
    assert {k: (o.status, o.because) for k, o in outcomes.items() if k != "a"} == {
        "b": (JobStatus.SKIPPED, "the cluster stopped answering"),
        "c": (JobStatus.SKIPPED, "the cluster stopped answering")}


def test_a_wrapped_helm_error_saying_connection_refused_halts_the_run() -> None:
    from toolkit.actions.apply import _unreachable
    from toolkit.errors import ClusterError, HelmError, OperationalError

    helm = HelmError("helm upgrade failed", stderr="Error: Kubernetes cluster unreachable: Get \"https://127.0.0.1:1/version\": "
                                                   "dial tcp 127.0.0.1:1: connect: connection refused")
    wrapped = OperationalError("helm upgrade failed")
    wrapped.__cause__ = helm
    reason = _unreachable(wrapped)
    assert reason is not None and reason.startswith("the cluster stopped answering: Error: Kubernetes cluster unreachable")
    assert _unreachable(OperationalError("a chart failed to render")) is None
    assert _unreachable(ClusterError("GET /x: HTTP 403: forbidden", status=403)) is None

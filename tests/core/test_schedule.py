"""Per-release scheduling: start on dependencies, not waves; skip dependents of failures only."""

from __future__ import annotations

import threading
import time

from toolkit.actions.schedule import JobStatus, run_graph


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
    outcomes = run_graph(deps, work, concurrency=3)
    assert {k: o.status for k, o in outcomes.items()} == dict.fromkeys(deps, JobStatus.SUCCEEDED)
    assert started["after-fast"] < finished["slow"]
    assert started["after-slow"] >= finished["slow"]


def test_failure_skips_dependents_and_independents_go_on() -> None:
    def work(key: str) -> str:
        if key == "cni":
            raise RuntimeError("boom")
        return key

    deps = {"cni": [], "dns": ["cni"], "addon": ["dns"], "other": []}
    outcomes = run_graph(deps, work, concurrency=2)
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

    run_graph({str(i): [] for i in range(8)}, work, concurrency=3)
    assert peak == 3


def test_dependencies_outside_the_graph_count_as_satisfied_and_cycles_are_skipped() -> None:
    outcomes = run_graph({"a": ["not-planned"], "x": ["y"], "y": ["x"]}, lambda k: k)
    assert outcomes["a"].status is JobStatus.SUCCEEDED
    assert outcomes["x"].status is JobStatus.SKIPPED and outcomes["x"].because == "dependency cycle"

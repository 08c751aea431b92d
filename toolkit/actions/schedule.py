"""Run jobs over start rules (`toolkit.core.waves.StartRule`): each job starts as soon as its
dependencies succeeded and its barriers (the lower tiers) finished, not when a whole wave has, bounded
by a worker count. A failure skips its dependents, naming the failure, while independent jobs go on; a
failed or skipped *critical* job also skips everything behind its barrier (no addon without a CNI)."""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

from toolkit.core.waves import StartRule

__all__ = ["INTERRUPTED", "JobOutcome", "JobStatus", "StartRule", "run_graph"]

T = TypeVar("T")


class JobStatus(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class JobOutcome(Generic[T]):
    status: JobStatus
    result: T | None = None
    error: BaseException | None = None
    because: str | None = None  # for SKIPPED: the failed job that caused it


INTERRUPTED = "interrupted"
"""The `because` of the jobs not started after Ctrl-C."""


def run_graph(rules: Mapping[str, StartRule], work: Callable[[str], T], *, concurrency: int = 4,
              critical: Callable[[str], bool] = lambda key: False,
              halt: Callable[[str, JobOutcome[T]], str | None] = lambda key, outcome: None,
              on_start: Callable[[str], None] | None = None,
              on_done: Callable[[str, JobOutcome[T]], None] | None = None,
              on_interrupt: Callable[[list[str]], None] | None = None) -> dict[str, JobOutcome[T]]:
    """Run `work(key)` for every key of `rules`; keys a rule names outside `rules` count as satisfied.

    A finished job for which `halt` names a reason (the cluster stopped answering) ends the run early:
    nothing new starts, the jobs in flight finish, every other job is skipped `because` of that reason.
    Ctrl-C does the same (reason `INTERRUPTED`, after `on_interrupt(keys in flight)`); a second Ctrl-C
    while the jobs in flight finish propagates at once. The graph must be acyclic (the planner
    guarantees it); a cycle would leave its jobs skipped.
    """
    pending = {key: [d for d in rule.needs if d in rules] for key, rule in rules.items()}
    barriers = {key: [d for d in rule.after if d in rules] for key, rule in rules.items()}
    outcomes: dict[str, JobOutcome[T]] = {}
    lock = threading.Lock()
    stopped: list[str] = []

    def finish(key: str, outcome: JobOutcome[T]) -> None:
        with lock:
            outcomes[key] = outcome
        if on_done is not None:
            on_done(key, outcome)
        reason = halt(key, outcome) if outcome.status is JobStatus.FAILED else None
        if reason and not stopped:
            stopped.append(reason)

    def run(key: str) -> JobOutcome[T]:
        if on_start is not None:
            on_start(key)
        try:
            return JobOutcome(JobStatus.SUCCEEDED, result=work(key))
        except Exception as exc:  # noqa: BLE001 - a job's failure is an outcome, not a crash
            return JobOutcome(JobStatus.FAILED, error=exc)

    def ready(key: str) -> bool:
        return all(d in outcomes for d in pending[key]) and all(d in outcomes for d in barriers[key])

    def blocker(key: str) -> str | None:
        blocked = [d for d in pending[key] if d in outcomes and outcomes[d].status is not JobStatus.SUCCEEDED]
        blocked += [d for d in barriers[key] if d in outcomes and critical(d)
                    and outcomes[d].status is not JobStatus.SUCCEEDED]
        return (outcomes[blocked[0]].because or blocked[0]) if blocked else None

    concurrency = max(1, concurrency)
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="release")
    running: dict[Future[JobOutcome[T]], str] = {}
    try:
        try:
            while len(outcomes) < len(pending) and not stopped:
                progressed = False
                for key in pending:  # submit no more than the workers take: queued jobs could not be withheld
                    if key in outcomes or key in running.values() or stopped or len(running) >= concurrency:
                        continue
                    root = blocker(key)
                    if root is not None:
                        finish(key, JobOutcome(JobStatus.SKIPPED, because=root))
                        progressed = True
                    elif ready(key):
                        running[pool.submit(run, key)] = key
                        progressed = True
                if running:
                    done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                    for future in done:
                        outcome = future.result()
                        finish(running.pop(future), outcome)
                elif not progressed:
                    for key in pending:  # a cycle: nothing can start
                        if key not in outcomes:
                            finish(key, JobOutcome(JobStatus.SKIPPED, because="dependency cycle"))
        except KeyboardInterrupt:
            stopped.append(INTERRUPTED)
            if on_interrupt is not None:
                on_interrupt(sorted(running.values()))
        for future in list(running):  # the jobs in flight finish (a second Ctrl-C ends this wait)
            outcome = future.result()
            finish(running.pop(future), outcome)
        for key in pending:
            if key not in outcomes:
                finish(key, JobOutcome(JobStatus.SKIPPED, because=stopped[0] if stopped else "dependency cycle"))
    finally:
        pool.shutdown(wait=not running, cancel_futures=True)
    return outcomes

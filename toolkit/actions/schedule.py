"""Run jobs over a dependency graph: each job starts as soon as all of its dependencies succeeded
(not when a whole wave has), bounded by a worker count; a failure skips its dependents, naming the
failure, while independent jobs go on."""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["JobOutcome", "JobStatus", "run_graph"]

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


def run_graph(deps: Mapping[str, Sequence[str]], work: Callable[[str], T], *, concurrency: int = 4,
              on_start: Callable[[str], None] | None = None,
              on_done: Callable[[str, JobOutcome[T]], None] | None = None) -> dict[str, JobOutcome[T]]:
    """Run `work(key)` for every key of `deps`; dependencies outside `deps` count as satisfied.

    The graph must be acyclic (the planner guarantees it); a cycle would leave its jobs skipped.
    """
    pending = {key: [d for d in deps[key] if d in deps] for key in deps}
    outcomes: dict[str, JobOutcome[T]] = {}
    lock = threading.Lock()

    def finish(key: str, outcome: JobOutcome[T]) -> None:
        with lock:
            outcomes[key] = outcome
        if on_done is not None:
            on_done(key, outcome)

    def run(key: str) -> JobOutcome[T]:
        if on_start is not None:
            on_start(key)
        try:
            return JobOutcome(JobStatus.SUCCEEDED, result=work(key))
        except Exception as exc:  # noqa: BLE001 - a job's failure is an outcome, not a crash
            return JobOutcome(JobStatus.FAILED, error=exc)

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="release") as pool:
        running: dict[Future[JobOutcome[T]], str] = {}
        while len(outcomes) < len(pending):
            progressed = False
            for key, needs in pending.items():
                if key in outcomes or key in running.values():
                    continue
                blocked = [d for d in needs if d in outcomes and outcomes[d].status is not JobStatus.SUCCEEDED]
                if blocked:
                    first = blocked[0]
                    root = outcomes[first].because or first
                    finish(key, JobOutcome(JobStatus.SKIPPED, because=root))
                    progressed = True
                elif all(d in outcomes for d in needs):
                    running[pool.submit(run, key)] = key
                    progressed = True
            if running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    finish(running.pop(future), future.result())
            elif not progressed:
                for key in pending:  # a cycle: nothing can start
                    if key not in outcomes:
                        finish(key, JobOutcome(JobStatus.SKIPPED, because="dependency cycle"))
    return outcomes

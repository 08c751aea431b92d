"""While helm waits for a release to become ready (`apply --wait`), look at the release's objects in
the API server: what is not ready, and why, is shown as it changes and kept for the error when helm
gives up (helm itself says only "context deadline exceeded", and its rollback deletes the evidence)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

from toolkit.actions.session import ReleaseRecords
from toolkit.core.helm_release import manifest_objects
from toolkit.core.model import PlannedRelease
from toolkit.core.readiness import WORKLOAD_KINDS, label_selector, not_ready
from toolkit.errors import OperationalError

__all__ = ["StallWatch"]

_JUDGED = WORKLOAD_KINDS | {"PersistentVolumeClaim"}


class StallWatch:
    """A background look, every `interval` seconds, at what keeps one release from being ready."""

    def __init__(self, records: ReleaseRecords, release: PlannedRelease, progress: Callable[[str], None], *,
                 interval: float = 5.0) -> None:
        self.records, self.release, self.progress, self.interval = records, release, progress, interval
        self.report: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"wait-{release.name}", daemon=True)

    def __enter__(self) -> StallWatch:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                report = self.look()
            except OperationalError:
                continue  # the API did not answer this time: keep the last answer
            if report and report != self.report:
                self.progress(f"{self.release.name}: waiting: {'; '.join(report)}")
            self.report = report

    def look(self) -> list[str]:
        """What of the release is not ready now, one line per object (empty: all ready, or not created)."""
        namespace = self.release.namespace
        record = self.records.record(namespace, self.release.name)
        if record is None:
            return []
        found = []
        for obj in manifest_objects(record):
            if obj.kind not in _JUDGED:
                continue
            live = self.records.live(obj, namespace)
            if live is None:
                found.append(f"{obj.kind} {obj.namespace or namespace}/{obj.name}: not created yet")
                continue
            selector = label_selector(live) if obj.kind != "Pod" else None
            pods = self.records.pods(obj.namespace or namespace, selector) if selector else []
            why = not_ready(live, pods)
            if why:
                found.append(why)
        return found

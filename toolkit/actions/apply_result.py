"""What an apply did, as data: each release's outcome and the run's result (its report and the error
that ends it), and the options it ran with."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from toolkit.actions.schedule import INTERRUPTED
from toolkit.core.model import Action, ReleasePlan
from toolkit.errors import (
    ApplyFailed,
    ClusterError,
    ConflictError,
    Interrupted,
    LeaseLost,
    ToolkitError,
)

__all__ = ["ApplyOptions", "ApplyResult", "Outcome", "ReleaseResult"]


class Outcome(enum.Enum):
    """What happened to one release."""

    INSTALLED = "installed"
    UPGRADED = "upgraded"
    UNCHANGED = "unchanged"
    UNINSTALLED = "uninstalled"
    KEPT = "kept"  # an uninstall that was not allowed (no --prune)
    RECORDED = "recorded"  # unchanged and ours by its mark, now back in a lost inventory
    NOT_RECORDED = "installed, not recorded"  # helm succeeded, the inventory write did not
    REFUSED = "refused"  # a release of this name tke-catalog does not own: left untouched
    FAILED = "failed"
    SKIPPED = "skipped"


_NOT_CLEAN = frozenset({Outcome.FAILED, Outcome.SKIPPED, Outcome.NOT_RECORDED, Outcome.REFUSED})


@dataclass(frozen=True)
class ApplyOptions:
    """How to act: the flags of `tke-catalog apply`."""

    concurrency: int = 4
    prune: bool = False
    wait: bool = True
    timeout: str = "300s"
    lock_timeout: float = 0.0
    take_over: frozenset[str] = frozenset()  # releases the user consents to take over (--take-over)
    check_objects: bool = True  # look for objects of our releases deleted outside tke-catalog
    rebuild_inventory: bool = False  # replace an unreadable inventory with one rebuilt from our marks


@dataclass(frozen=True)
class ReleaseResult:
    name: str
    namespace: str
    action: Action
    outcome: Outcome
    seconds: float = 0.0
    error: str | None = None
    because: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "namespace": self.namespace, "action": self.action.value,
                               "outcome": self.outcome.value, "seconds": round(self.seconds, 2)}
        for key in ("error", "because"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class ApplyResult:
    cluster: str
    releases: tuple[ReleaseResult, ...]
    recovered: tuple[str, ...] = ()
    plan: ReleasePlan | None = field(default=None, repr=False)
    helm: dict[str, str] | None = None  # {"path", "version"} of the helm that ran
    lease_lost: str | None = None  # why apply stopped early: the Lease was deleted or taken
    stopped: str | None = None  # why nothing more started: `INTERRUPTED` (Ctrl-C) or the cluster stopped answering

    @property
    def not_clean(self) -> list[ReleaseResult]:
        """The releases that did not end as planned."""
        return [r for r in self.releases if r.outcome in _NOT_CLEAN]

    @property
    def ok(self) -> bool:
        return self.lease_lost is None and self.stopped is None and not self.not_clean

    @property
    def interrupted(self) -> bool:
        return self.stopped == INTERRUPTED

    @property
    def refused_only(self) -> bool:
        """True when the only problems are releases we refused to take over (exit 4, not 1)."""
        refused = {r.name for r in self.releases if r.outcome is Outcome.REFUSED}
        return self.lease_lost is None and bool(refused) and all(
            r.name in refused or r.outcome is Outcome.SKIPPED and r.because in refused for r in self.not_clean)

    def problem(self) -> ToolkitError | None:
        """The error that ends the run after its report, when it did not end clean (its exit code)."""
        if self.stopped is not None:
            waiting = sum(1 for r in self.releases if r.outcome is Outcome.SKIPPED and r.because == self.stopped)
            if self.interrupted:
                return Interrupted(f"apply interrupted: the releases in flight finished, {waiting} not started",
                                   hint="re-run the same command to resume")
            return ClusterError(f"{self.stopped}; {waiting} release(s) not started",
                                hint="check that the API server is up, then re-run apply: it resumes where it stopped")
        if self.lease_lost:
            return LeaseLost(self.lease_lost, hint="another apply may hold the Lease now: let it finish, then re-run")
        if self.refused_only:
            refused = [r.name for r in self.releases if r.outcome is Outcome.REFUSED]
            return ConflictError(f"left untouched: {', '.join(refused)} (not installed by tke-catalog)",
                                 hint="pass --take-over NAME (or set takeOver: true on the app) to take one over")
        if self.not_clean:
            kinds = ", ".join(sorted({r.outcome.value for r in self.not_clean}))
            return ApplyFailed(f"{len(self.not_clean)} release(s) not applied cleanly ({kinds}); the others were "
                               "applied", hint="fix the problems reported above and re-run apply (it resumes)")
        return None

    def as_dict(self) -> dict[str, Any]:
        counts = {o.value: sum(1 for r in self.releases if r.outcome is o) for o in Outcome}
        out: dict[str, Any] = {"cluster": self.cluster, "ok": self.ok}
        if self.helm is not None:
            out["helm"] = dict(self.helm)
        out.update({"summary": counts, "recovered": list(self.recovered),
                    "releases": [r.as_dict() for r in self.releases]})
        if self.lease_lost:
            out["leaseLost"] = self.lease_lost
        if self.stopped:
            out["stopped"] = self.stopped
        return out

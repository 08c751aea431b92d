"""A Cluster object's status as the controller writes it, computed from what a reconcile found.

Conditions follow Kubernetes' convention (`type`, `status`, `observedGeneration`, `reason`, `message`,
`lastTransitionTime`, kept when the status does not change): `Ready`, `Reconciling`, `Stalled`. Other
writers' conditions (TKEStack's own `EnsureBootstrapApps`, ...) are kept as they are. Per-app status uses
TKEStack's App phase names where one fits (Succeeded, Failed, RolledBack, Terminating); `Skipped` and
`Refused` say what TKEStack had no word for.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.findings import Finding, format_findings

__all__ = ["AppStatus", "Verdict", "Kind", "app_phase", "cluster_status", "needs_reconcile", "OURS"]

OURS = ("Ready", "Reconciling", "Stalled")


class Kind(enum.Enum):
    """What the reconcile came to."""

    READY = "Ready"                      # every release as wanted
    RELEASES_FAILED = "ReleasesFailed"   # some releases failed or were skipped; the others were applied
    INVALID = "InvalidSpec"              # the Cluster (or its annotations) cannot be planned: nothing changed
    UNREACHABLE = "ClusterUnreachable"   # the business cluster did not answer: retried with backoff
    NO_CREDENTIALS = "NoCredentials"     # no kubeconfig Secret nor ClusterCredential to reach it
    BUSY = "LeaseHeld"                   # another apply holds the Cluster's Lease: retried shortly
    FAILED = "ReconcileFailed"           # anything else operational (helm, registry)
    DELETING = "Deleting"                # the finalizer is uninstalling the apps
    PROGRESSING = "Progressing"          # a reconcile of a new generation has started


@dataclass(frozen=True)
class AppStatus:
    """One app's line in `status.apps`."""

    name: str
    namespace: str
    phase: str
    chart: str = ""
    version: str = ""
    digest: str = ""
    revision: int | None = None
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "namespace": self.namespace, "phase": self.phase,
                               "chart": self.chart, "version": self.version}
        if self.digest:
            out["digest"] = self.digest
        if self.revision is not None:
            out["revision"] = self.revision
        if self.message:
            out["message"] = self.message[:512]
        return out


@dataclass(frozen=True)
class Verdict:
    """One reconcile's conclusion: its kind, the message, the apps, and how many failed in a row."""

    kind: Kind
    message: str
    apps: tuple[AppStatus, ...] | None = None  # None: keep the apps the status already lists
    findings: tuple[Finding, ...] = ()
    failures: int = 0  # consecutive failed reconciles of this generation, this one included
    retrying: bool = False  # another attempt is scheduled (backoff)
    stalled_after: int = 5

    @property
    def stalled(self) -> bool:
        """Stalled: nothing will change until the Cluster is edited, or it failed too often in a row."""
        return self.kind is Kind.INVALID or (
            self.kind in (Kind.RELEASES_FAILED, Kind.FAILED, Kind.UNREACHABLE, Kind.NO_CREDENTIALS)
            and self.failures >= self.stalled_after)


_PHASES = {"installed": "Succeeded", "upgraded": "Succeeded", "unchanged": "Succeeded", "recorded": "Succeeded",
           "kept": "Succeeded", "installed, not recorded": "Succeeded", "skipped": "Skipped", "refused": "Refused"}


def app_phase(outcome: str, action: str) -> str:
    """TKEStack's App phase for an apply outcome: a failed upgrade was rolled back, a failed install removed."""
    if outcome == "failed":
        return "RolledBack" if action == "upgrade" else "Failed"
    return _PHASES.get(outcome, "Failed")


def _condition(kind: str, status: bool, reason: str, message: str, generation: int,
               before: Mapping[str, Any] | None, now: str) -> dict[str, Any]:
    value = "True" if status else "False"
    changed = before is None or before.get("status") != value
    return {"type": kind, "status": value, "observedGeneration": generation, "reason": reason,
            "message": message[:2048],
            "lastTransitionTime": now if changed else before.get("lastTransitionTime", now)}  # type: ignore[union-attr]


def _message(verdict: Verdict) -> str:
    if verdict.findings:
        return f"{verdict.message}:\n{format_findings(verdict.findings)}"
    return verdict.message


def cluster_status(current: Mapping[str, Any] | None, verdict: Verdict, generation: int, now: str) -> dict[str, Any]:
    """The status to write: `current` (the object's status) with our conditions, apps and counters."""
    status = dict(current or {})
    existing = [c for c in status.get("conditions") or [] if isinstance(c, Mapping)]
    by_type = {str(c.get("type")): c for c in existing}
    message = _message(verdict)
    ready = verdict.kind is Kind.READY
    reconciling = not ready and not verdict.stalled and (
        verdict.retrying or verdict.kind in (Kind.DELETING, Kind.PROGRESSING))
    ours = [
        _condition("Ready", ready, verdict.kind.value, message, generation, by_type.get("Ready"), now),
        _condition("Reconciling", reconciling, verdict.kind.value if reconciling else "Idle",
                   message if reconciling else "", generation, by_type.get("Reconciling"), now),
        _condition("Stalled", verdict.stalled, verdict.kind.value if verdict.stalled else "NotStalled",
                   message if verdict.stalled else "", generation, by_type.get("Stalled"), now),
    ]
    status["conditions"] = [c for c in existing if c.get("type") not in OURS] + ours
    status["observedGeneration"] = generation
    if verdict.apps is not None:
        status["apps"] = [a.as_dict() for a in verdict.apps]
    status["failures"] = verdict.failures
    return status


def same_status(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """True when writing `new` would change nothing a reader sees (times aside)."""
    def strip(status: Mapping[str, Any] | None) -> Any:
        status = dict(status or {})
        status["conditions"] = [{k: v for k, v in c.items() if k != "lastTransitionTime"}
                                for c in status.get("conditions") or [] if isinstance(c, Mapping)]
        return status
    return bool(strip(old) == strip(new))


def needs_reconcile(obj: Mapping[str, Any], done_generation: int | None) -> bool:
    """Whether a watch event asks for work: a generation we did not reconcile yet, or a deletion."""
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return True
    generation = int(meta.get("generation") or 0)
    return done_generation is None or generation != done_generation


@dataclass
class Backoff:
    """Per-Cluster exponential backoff: `base` · 2^(failures-1), at most `cap` seconds."""

    base: float = 2.0
    cap: float = 300.0
    failures: dict[str, int] = field(default_factory=dict)

    def failed(self, key: str) -> float:
        """Count a failure of `key`; the delay before its next attempt."""
        count = self.failures.get(key, 0) + 1
        self.failures[key] = count
        return float(min(self.cap, self.base * 2 ** (count - 1)))

    def succeeded(self, key: str) -> None:
        self.failures.pop(key, None)

    def count(self, key: str) -> int:
        return self.failures.get(key, 0)


def app_statuses(planned: Sequence[Any], outcomes: Mapping[str, tuple[str, str, str]],
                 revisions: Mapping[tuple[str, str], int]) -> tuple[AppStatus, ...]:
    """One AppStatus per planned release that stays installed (`outcomes`: name → (outcome, action,
    message); `revisions`: (namespace, name) → helm's newest revision)."""
    apps = []
    for release in planned:
        outcome, action, message = outcomes.get(release.name, ("unchanged", "noop", ""))
        if outcome == "uninstalled" or (action == "uninstall" and outcome != "kept"):
            continue
        if outcome == "kept":
            message = message or "no longer wanted; kept installed (tke-catalog.io/prune is false)"
        apps.append(AppStatus(release.name, release.namespace, app_phase(outcome, action), release.chart,
                              release.version, release.digest, revisions.get((release.namespace, release.name)),
                              message))
    return tuple(apps)

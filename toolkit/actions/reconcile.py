"""One reconcile of one Cluster object, with the same planner and apply core as `tke-catalog apply`.

The object is written out as a Cluster file (metadata trimmed to name, labels and annotations; spec as
the API server keeps it, unknown fields and nulls included, so validation sees exactly what the user
wrote), checked before anything is contacted, then applied under the Cluster's Lease on its business
cluster. The outcome is a `Verdict` (what the status should say) and Events to post: values, so the
controller loop decides what to write and tests can read them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from toolkit.actions.apply_result import ApplyOptions, ApplyResult
from toolkit.actions.session import ClusterSession
from toolkit.adapters.kube.client import ClusterAccess
from toolkit.core.business_access import kubeconfig_from_credential
from toolkit.core.controller_policy import ClusterPolicy, policy_of
from toolkit.core.controller_status import AppStatus, Kind, Verdict, app_statuses
from toolkit.core.findings import Finding, has_errors
from toolkit.core.model import ChartSource
from toolkit.core.reachability import says_unreachable
from toolkit.errors import (
    ClusterError,
    ConflictError,
    InputError,
    LockHeld,
    OperationalError,
    PlanRejected,
    ToolkitError,
)

__all__ = ["Event", "Management", "Outcome", "ReconcileSettings", "cluster_document", "finalize", "reconcile"]


class Management(Protocol):
    """What a reconcile reads on the management cluster: the business clusters' credentials."""

    def kubeconfig_secret(self, cluster: str) -> str | None:
        """The kubeconfig in the Secret `<cluster>-kubeconfig` (key `value`), or None."""
        ...

    def cluster_credential(self, name: str) -> dict[str, Any] | None:
        """TKEStack's ClusterCredential `name`, or None."""
        ...


@dataclass(frozen=True)
class Event:
    """A Kubernetes Event to post about the Cluster object."""

    type: str  # Normal or Warning
    reason: str
    message: str


@dataclass(frozen=True)
class Outcome:
    """What one reconcile came to: the status verdict and the Events to post."""

    verdict: Verdict
    events: tuple[Event, ...] = ()
    done: bool = False  # a deletion whose apps are handled: the finalizer may go


@dataclass(frozen=True)
class ReconcileSettings:
    """How every reconcile runs (the controller's flags)."""

    root: Path
    cache: Path
    workdir: Path
    helm: str
    helm_source: str = ""
    charts: ChartSource | None = None
    management: ClusterAccess = field(default_factory=ClusterAccess)
    concurrency: int = 4
    wait: bool = False
    timeout: str = "300s"
    stalled_after: int = 5


SessionOpener = Callable[[ClusterAccess, str, str], ClusterSession]


def cluster_document(obj: Mapping[str, Any]) -> str:
    """The Cluster file for `obj` (JSON, which is YAML): apiVersion, kind, trimmed metadata and spec."""
    meta = obj.get("metadata") or {}
    kept = {k: meta[k] for k in ("name", "labels", "annotations") if meta.get(k) is not None}
    return json.dumps({"apiVersion": obj.get("apiVersion", "platform.tkestack.io/v1"),
                       "kind": obj.get("kind", "Cluster"), "metadata": kept, "spec": obj.get("spec")},
                      indent=2) + "\n"


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _private_file(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


@contextlib.contextmanager
def business_access(obj: Mapping[str, Any], policy: ClusterPolicy, management: Management,
                    settings: ReconcileSettings) -> Iterator[ClusterAccess]:
    """How to reach the Cluster's business cluster: the management cluster itself (when the Cluster says
    so), its `<name>-kubeconfig` Secret, or its ClusterCredential. The kubeconfig lives in a private
    file for the reconcile only; InputError when there is none."""
    if policy.management:
        yield settings.management
        return
    name = _name(obj)
    text = management.kubeconfig_secret(name)
    if text is None:
        ref = ((obj.get("spec") or {}).get("clusterCredentialRef") or {}).get("name")
        credential = management.cluster_credential(str(ref)) if ref else None
        if credential is None:
            raise InputError(f"Cluster {name}: no Secret {name}-kubeconfig and no ClusterCredential to reach it",
                             hint=f"create the Secret {name}-kubeconfig (key `value`: the kubeconfig) in the "
                                  "controller's namespace, or set spec.clusterCredentialRef")
        text = json.dumps(kubeconfig_from_credential(obj, credential, insecure=policy.insecure_credential))
    path = _private_file(settings.workdir / "credentials" / f"{name}.kubeconfig", text)
    try:
        yield ClusterAccess(kubeconfig=str(path))
    finally:
        path.unlink(missing_ok=True)


def _located(findings: list[Finding], file: Path, name: str) -> tuple[Finding, ...]:
    """Findings that name the Cluster object rather than the file the controller wrote for it (whose line
    numbers mean nothing to the user: the JSON path says where)."""
    return tuple(replace(f, file=f"Cluster {name}", line=None) if f.file in (str(file), "") else f for f in findings)


def _unreachable(error: ToolkitError) -> bool:
    return isinstance(error, ClusterError) and error.status is None and (
        says_unreachable(error.message) or "cannot reach" in error.message)


def _failure(error: ToolkitError, name: str, cluster_file: Path, settings: ReconcileSettings,
             failures: int) -> Outcome:
    """The verdict for a reconcile that raised."""
    if isinstance(error, LockHeld):
        return Outcome(Verdict(Kind.BUSY, error.message, retrying=True, failures=failures))
    if isinstance(error, PlanRejected) or isinstance(error, InputError) and getattr(error, "findings", None):
        findings = _located(list(getattr(error, "findings", ())), cluster_file, name)
        shown = tuple(f for f in findings if f.severity.value == "error") or findings
        return Outcome(Verdict(Kind.INVALID, f"Cluster {name} cannot be planned; nothing was changed",
                               findings=shown), (Event("Warning", "InvalidSpec", shown[0].message if shown else error.message),))
    if isinstance(error, InputError):
        kind = Kind.NO_CREDENTIALS if "to reach it" in error.message else Kind.INVALID
        return Outcome(Verdict(kind, error.message + (f" ({error.hint})" if error.hint else ""),
                               failures=failures, retrying=kind is Kind.NO_CREDENTIALS,
                               stalled_after=settings.stalled_after),
                       (Event("Warning", kind.value, error.message),))
    kind = Kind.UNREACHABLE if _unreachable(error) else Kind.FAILED
    return Outcome(Verdict(kind, error.message, failures=failures, retrying=True, stalled_after=settings.stalled_after),
                   (Event("Warning", kind.value, error.message),))


def _verdict_of(result: ApplyResult, session: ClusterSession, failures: int,
                settings: ReconcileSettings) -> Outcome:
    plan = result.plan
    outcomes = {r.name: (r.outcome.value, r.action.value, r.error or (f"skipped: {r.because} failed" if r.because else ""))
                for r in result.releases}
    namespaces = {r.namespace for r in plan.releases} if plan is not None else set()
    revisions: dict[tuple[str, str], int] = {}
    if session.records is not None and namespaces:
        with contextlib.suppress(OperationalError):
            revisions = {key: d.revision for key, d in session.records.deployed(namespaces).items()}
    apps: tuple[AppStatus, ...] = app_statuses(plan.releases if plan is not None else (), outcomes, revisions)
    events = []
    for release in result.releases:
        value = release.outcome.value
        if value in ("installed", "upgraded", "uninstalled"):
            events.append(Event("Normal", value.capitalize(), f"{release.namespace}/{release.name} {value}"))
        elif value in ("failed", "refused"):
            events.append(Event("Warning", "Release" + value.capitalize(),
                                f"{release.namespace}/{release.name}: {release.error or value}"))
    if result.ok:
        changed = sum(1 for r in result.releases if r.outcome.value in ("installed", "upgraded", "uninstalled"))
        return Outcome(Verdict(Kind.READY, f"{len(apps)} app(s) as declared" + (f"; {changed} changed" if changed else ""),
                               apps=apps), tuple(events))
    if result.stopped and "cluster stopped answering" in result.stopped:
        return Outcome(Verdict(Kind.UNREACHABLE, result.stopped, apps=apps, failures=failures, retrying=True,
                               stalled_after=settings.stalled_after), tuple(events))
    problem = result.problem()
    bad = ", ".join(f"{r.name} ({r.outcome.value})" for r in result.not_clean)
    message = f"{problem.message if problem else 'not applied cleanly'}: {bad}" if bad else (
        problem.message if problem else "not applied cleanly")
    return Outcome(Verdict(Kind.RELEASES_FAILED, message, apps=apps, failures=failures, retrying=True,
                           stalled_after=settings.stalled_after), tuple(events))


def reconcile(obj: Mapping[str, Any], *, management: Management, settings: ReconcileSettings,
              open_session: SessionOpener, progress: Callable[[str], None], failures: int = 0) -> Outcome:
    """Make the Cluster's business cluster hold the apps it declares. `failures`: how many reconciles of
    this generation failed before this one (this one counts when it fails too)."""
    from toolkit.actions.apply import run_apply
    from toolkit.actions.validate import parse_cluster_text
    from toolkit.core.findings import plan_rejected

    name = _name(obj)
    cluster_file = settings.workdir / "clusters" / f"{name}.yaml"
    try:
        policy, policy_findings = policy_of(obj, f"Cluster {name}")
        text = cluster_document(obj)
        _private_file(cluster_file, text)
        parsed = parse_cluster_text(text, str(cluster_file), settings.root)
        findings = list(policy_findings) + list(parsed.findings)
        if parsed.cluster is None or has_errors(findings):
            raise plan_rejected(findings, str(cluster_file))
        options = ApplyOptions(concurrency=settings.concurrency, prune=policy.prune, wait=settings.wait,
                               timeout=settings.timeout, lock_timeout=0.0)
        with business_access(obj, policy, management, settings) as access, \
                open_session(access, settings.helm, settings.helm_source) as session:
            result = run_apply(cluster_file, session=session, root=settings.root, cache=settings.cache,
                               options=options, allow_critical_removal=policy.allow_critical_removal,
                               confirm=lambda _plan: True, progress=progress, charts=settings.charts)
            return _verdict_of(result, session, failures + (0 if result.ok else 1), settings)
    except ToolkitError as error:
        return _failure(error, name, cluster_file, settings, failures + 1)


def finalize(obj: Mapping[str, Any], *, management: Management, settings: ReconcileSettings,
             open_session: SessionOpener, progress: Callable[[str], None], failures: int = 0) -> Outcome:
    """A Cluster being deleted: uninstall its apps (dependents first, critical ones last) unless its
    deletion policy orphans them. `done` says the finalizer may be removed."""
    from toolkit.actions.release_ops import uninstall_all

    name = _name(obj)
    policy, _ = policy_of(obj, f"Cluster {name}")
    if not policy.uninstall_on_delete:
        return Outcome(Verdict(Kind.DELETING, "deletion policy orphan: the apps stay installed"),
                       (Event("Normal", "Orphaned", f"Cluster {name} deleted; its apps were left installed"),), done=True)
    try:
        with business_access(obj, policy, management, settings) as access, \
                open_session(access, settings.helm, settings.helm_source) as session:
            done = uninstall_all(session, name, settings.root, allow_critical_removal=True, timeout=settings.timeout,
                                 progress=progress)
    except (OperationalError, InputError, ConflictError) as error:
        hint = ("; set tke-catalog.io/deletion-policy: orphan on the Cluster to let it go without uninstalling"
                if not isinstance(error, LockHeld) else "")
        outcome = _failure(error, name, settings.workdir / "clusters" / f"{name}.yaml", settings, failures + 1)
        return Outcome(replace(outcome.verdict, kind=Kind.DELETING if outcome.verdict.kind is Kind.BUSY else outcome.verdict.kind,
                               message=f"deleting: {outcome.verdict.message}{hint}", retrying=True), outcome.events)
    events = tuple(Event("Normal", "Uninstalled", f"{key} {what}") for key, what in done)
    return Outcome(Verdict(Kind.DELETING, f"{len(done)} app(s) uninstalled"), events, done=True)

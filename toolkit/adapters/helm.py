"""The helm adapter: the real helm CLI driven through pyhelm3, behind a small synchronous API.

Async stays inside this module. Every pyhelm3 error becomes a HelmError that keeps helm's stderr.
Values always travel as one merged dict (pyhelm3 concatenates lists when given several), timeouts as
strings with a unit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pyhelm3 import errors as helm_errors
from pyhelm3.command import Command

from toolkit.core.chart import split_chart_label
from toolkit.errors import ClusterError, HelmError, translate

__all__ = ["Helm", "HelmLike", "HelmRun", "ReleaseInfo"]

T = TypeVar("T")

# pyhelm3 logs every argv at INFO (including --kube-token); keep it quiet.
logging.getLogger("pyhelm3").setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class HelmRun:
    """The outcome of a helm command we only need to judge: success and what it printed."""

    ok: bool
    output: str


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """One release as `helm list` reports it."""

    name: str
    namespace: str
    revision: int
    status: str
    chart: str
    app_version: str

    @property
    def chart_name(self) -> str:
        return split_chart_label(self.chart)[0]

    @property
    def chart_version(self) -> str:
        return split_chart_label(self.chart)[1]


class HelmLike(Protocol):
    """What the actions need from helm; `Helm` is the real one, tests may pass a recording fake."""

    def lint(self, chart: Path, values_files: Sequence[Path] = ()) -> HelmRun: ...
    def template(self, chart: Path, release: str, namespace: str, values: dict[str, Any]) -> list[dict[str, Any]]: ...
    def upgrade_install(self, release: str, chart: Path, namespace: str, values: dict[str, Any], *,
                        wait: bool, timeout: str, atomic: bool = False, description: str = "") -> dict[str, Any]: ...
    def uninstall(self, release: str, namespace: str, *, timeout: str, wait: bool = False) -> None: ...
    def rollback(self, release: str, namespace: str, revision: int | None, *, timeout: str,
                 wait: bool = False) -> None: ...
    def list_releases(self) -> list[ReleaseInfo]: ...
    def get_values(self, release: str, namespace: str) -> dict[str, Any]: ...


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _stderr(exc: BaseException) -> str:
    raw = getattr(exc, "stderr", b"") or b""
    return str(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw).strip()


class Helm:
    """The real helm CLI (`executable`), optionally pointed at one kubeconfig and context."""

    def __init__(self, executable: str, *, kubeconfig: Path | None = None, context: str | None = None,
                 history_max: int = 10) -> None:
        self.executable = executable
        self._command = Command(executable=executable, kubeconfig=kubeconfig,
                                kubecontext=context, history_max_revisions=history_max)

    def _call(self, what: str, coro: Coroutine[Any, Any, T]) -> T:
        with translate([
            (helm_errors.ConnectionError, lambda exc: ClusterError(
                f"helm could not reach the cluster during {what}: {_stderr(exc)}",
                hint="check --kubeconfig/--context and that the API server is up")),
            (helm_errors.Error, lambda exc: self._failure(what, exc)),
        ]):
            return _run(coro)

    def _failure(self, what: str, exc: BaseException) -> HelmError:
        stderr = _stderr(exc)
        if getattr(exc, "returncode", None) == 127 or "not found" in stderr and self.executable in stderr:
            return HelmError(f"helm executable {self.executable!r} not found",
                             hint="run scripts/setup.sh helm or set TKE_CATALOG_HELM")
        return HelmError(f"helm {what} failed: {stderr}", stderr=stderr)

    def lint(self, chart: Path, values_files: Sequence[Path] = ()) -> HelmRun:
        """`helm lint --strict` with the given values files; a failing lint is a result, not an error."""
        argv: list[Any] = ["lint", "--strict", str(chart)]
        for file in values_files:
            argv += ["--values", str(file)]
        try:
            out = _run(self._command.run(argv))
            return HelmRun(True, out.decode("utf-8", "replace"))
        except helm_errors.Error as exc:
            return HelmRun(False, (exc.stdout + exc.stderr).decode("utf-8", "replace"))

    def template(self, chart: Path, release: str, namespace: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Render the chart with one merged values dict; the objects it would create."""
        rendered = self._call("template", self._command.template(release, chart, values, namespace=namespace,
                                                                 include_crds=True))
        return [doc for doc in rendered if doc]

    def upgrade_install(self, release: str, chart: Path, namespace: str, values: dict[str, Any], *,
                        wait: bool, timeout: str, atomic: bool = False, description: str = "") -> dict[str, Any]:
        """`helm upgrade --install` with values on stdin; returns helm's JSON release record."""
        result = self._call(f"upgrade --install of {namespace}/{release}", self._command.install_or_upgrade(
            release, chart, values, namespace=namespace, wait=wait, timeout=timeout, create_namespace=True,
            atomic=atomic, atomic_arg="--atomic", description=description or None))
        return dict(result)

    def uninstall(self, release: str, namespace: str, *, timeout: str, wait: bool = False) -> None:
        """`helm uninstall`."""
        self._call(f"uninstall of {namespace}/{release}",
                   self._command.uninstall(release, namespace=namespace, timeout=timeout, wait=wait))

    def rollback(self, release: str, namespace: str, revision: int | None, *, timeout: str,
                 wait: bool = False) -> None:
        """`helm rollback` to `revision` (the previous one when None)."""
        self._call(f"rollback of {namespace}/{release}",
                   self._command.rollback(release, revision, namespace=namespace, timeout=timeout, wait=wait))

    def list_releases(self) -> list[ReleaseInfo]:
        """Every release in every namespace and every state (one helm call)."""
        rows = self._call("list", self._command.list(all=True, all_namespaces=True, include_deployed=False,
                                                     max_releases=0))
        return [ReleaseInfo(r["name"], r["namespace"], int(r["revision"]), r["status"], r["chart"],
                            r.get("app_version", "")) for r in rows]

    def get_values(self, release: str, namespace: str) -> dict[str, Any]:
        """The user-supplied values of the current revision."""
        values = self._call(f"get values of {namespace}/{release}",
                            self._command.get_values(release, namespace=namespace))
        return dict(values or {})

"""The helm adapter: the real helm CLI (3 or 4) driven through pyhelm3, behind a small synchronous API.

Async stays inside this module. Every pyhelm3 error becomes a HelmError that keeps helm's stderr.
Values always travel as one merged dict (pyhelm3 concatenates lists when given several), timeouts as
strings with a unit.

The helm's version is read once (`helm version`), a helm older than `MINIMUM_VERSION` is refused, and
pyhelm3's command lines, written for helm 3, are rewritten for helm 4 by `adapt_argv`, a pure function.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import re
import signal
import subprocess
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pyhelm3 import errors as helm_errors
from pyhelm3.command import Command

from toolkit.adapters.quiet_logs import quiet_root
from toolkit.core.chart import split_chart_label
from toolkit.errors import ClusterError, HelmError, translate

quiet_root()

__all__ = [
    "MINIMUM_VERSION",
    "Helm",
    "HelmLike",
    "HelmRun",
    "HelmVersion",
    "ReleaseInfo",
    "adapt_argv",
    "check_supported",
    "detect_version",
    "parse_version",
]

T = TypeVar("T")

_PYHELM3_LOG = logging.getLogger("pyhelm3")  # it logs every argv (with --kube-token) and every failure raw
_PYHELM3_LOG.setLevel(logging.CRITICAL + 1)
_PYHELM3_LOG.propagate = False


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


@dataclass(frozen=True, slots=True, order=True)
class HelmVersion:
    """A helm release as `helm version` reports it (`v4.3.2`); ordered by its numbers."""

    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}"


MINIMUM_VERSION = HelmVersion(3, 18, 5)
"""The oldest helm we drive. Our charts' values.schema.json files are JSON Schema 2020-12, and helm
validates with a 2020-12 validator only from 3.18.5 on (older ones knew draft-07 alone, so helm and
`tke-catalog lint` would enforce different rules on the same values)."""

_NEWEST_MAJOR = 4
_VERSION = re.compile(r"v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:[-+][0-9A-Za-z.+-]*)?")


def parse_version(text: str) -> HelmVersion | None:
    """`v3.22.0` (prerelease or build metadata allowed) as a HelmVersion; None when it is not MAJOR.MINOR.PATCH."""
    match = _VERSION.fullmatch(text.strip())
    if match is None:
        return None
    return HelmVersion(int(match[1]), int(match[2]), int(match[3]))


def check_supported(version: HelmVersion, executable: str, source: str) -> None:
    """Refuse a helm we do not drive: older than MINIMUM_VERSION, or a major newer than 4."""
    where = f"{executable} ({source})" if source else executable
    if version < MINIMUM_VERSION:
        raise HelmError(f"helm {version} at {where} is older than {MINIMUM_VERSION}, the oldest helm tke-catalog supports",
                        hint=f"install helm >= {MINIMUM_VERSION} or 4.x and pass it with --helm PATH or TKE_CATALOG_HELM "
                             "(scripts/setup.sh helm builds v3.22 and v4)")
    if version.major > _NEWEST_MAJOR:
        raise HelmError(f"helm {version} at {where} is a major version tke-catalog does not know yet "
                        f"(it supports {MINIMUM_VERSION} up to 4.x)",
                        hint="pass a helm 3 or 4 with --helm PATH or TKE_CATALOG_HELM")


@functools.lru_cache(maxsize=16)
def _version_output(executable: str) -> subprocess.CompletedProcess[str]:
    """`helm version`, run once per executable and process (a verb may build several Helm objects)."""
    return subprocess.run([executable, "version", "--template", "{{.Version}}"],
                          capture_output=True, text=True, timeout=60, check=False)


def detect_version(executable: str, source: str = "") -> HelmVersion:
    """Run `helm version` (once per executable) and return the version, refusing an unsupported or
    unreadable one."""
    where = f"{executable} ({source})" if source else executable
    try:
        done = _version_output(executable)
    except FileNotFoundError as exc:
        raise HelmError(f"helm executable {where} not found",
                        hint="install helm, pass --helm PATH or set TKE_CATALOG_HELM (scripts/setup.sh helm builds one)") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HelmError(f"cannot run helm at {where}: {exc}", hint="pass a working helm with --helm PATH") from exc
    if done.returncode != 0:
        raise HelmError(f"`helm version` failed for {where}: {done.stderr.strip()}", stderr=done.stderr,
                        hint="pass a working helm with --helm PATH or TKE_CATALOG_HELM")
    version = parse_version(done.stdout)
    if version is None:
        raise HelmError(f"helm at {where} reports version {done.stdout.strip()!r}, not vMAJOR.MINOR.PATCH",
                        hint="a helm built with `go install` needs its version ldflags (see scripts/setup.sh)")
    check_supported(version, executable, source)
    return version


# --- pyhelm3 writes helm 3's command lines; helm 4 renamed or dropped some flags --------------------

# Flags pyhelm3 (or we) pass that take a value as the next word: their values are never rewritten.
_TAKES_VALUE = frozenset({
    "--context", "--description", "--history-max", "--kube-apiserver", "--kube-context", "--kube-token",
    "--kubeconfig", "--max", "--namespace", "--output", "--repo", "--revision", "--template", "--timeout",
    "--values", "--version",
})
# helm 4 kept these as deprecated aliases that warn on stderr: send the new names.
_RENAMED_IN_4 = {"--atomic": "--rollback-on-failure", "--force": "--force-replace"}
# helm 4 dropped these; the replacement is no flag at all.
_DROPPED_IN_4 = {("list", "--all")}  # helm 4 lists releases in every state unless a state flag is given
_REMOVED_IN_4 = {("rollback", "--recreate-pods")}  # no helm 4 equivalent


def adapt_argv(argv: Sequence[Any], major: int) -> list[Any]:
    """pyhelm3's argv (helm 3's flags) for the helm of `major`: unchanged for 3, rewritten for 4.

    Raises:
        HelmError: a flag helm 4 removed without a replacement.
    """
    words = list(argv)
    if major < 4 or not words:
        return words
    verb = str(words[0])
    out: list[Any] = []
    value_next = False
    for word in words:
        if value_next or not isinstance(word, str) or not word.startswith("--"):
            out.append(word)
            value_next = False
            continue
        value_next = word in _TAKES_VALUE
        if (verb, word) in _DROPPED_IN_4:
            continue
        if (verb, word) in _REMOVED_IN_4:
            raise HelmError(f"helm {verb} {word} does not exist in helm 4", hint="drive this with helm 3")
        out.append(_RENAMED_IN_4.get(word, word))
    return out


class _VersionedCommand(Command):  # type: ignore[misc]  # pyhelm3 ships no type information
    """pyhelm3's Command, its command lines adapted to the helm's major version before they run."""

    def __init__(self, major: int, **options: Any) -> None:
        super().__init__(**options)
        self.major = major

    async def run(self, command: list[str], input: bytes | None = None) -> bytes:
        labels = _RELEASE_LABELS.get()
        if labels and command and command[0] == "upgrade":
            command = [*command, "--labels", ",".join(f"{k}={v}" for k, v in sorted(labels.items()))]
        if _TAKE_OWNERSHIP.get() and command and command[0] == "upgrade":
            # helm 4 applies server-side: the fields the objects' other managers (kubeadm, kubectl) own
            # would conflict; taking the objects over with consent means taking those fields too
            command = [*command, "--take-ownership", *(["--force-conflicts"] if self.major >= 4 else [])]
        template_args = _TEMPLATE_ARGS.get()
        if template_args and command and command[0] == "template":
            command = [*command, *template_args]
        out: bytes = await super().run(adapt_argv(command, self.major), input)
        return out


_RELEASE_LABELS: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("release_labels", default=None)
"""Labels for the release record of the `helm upgrade` this thread runs (pyhelm3 has no such option)."""

_TAKE_OWNERSHIP: contextvars.ContextVar[bool] = contextvars.ContextVar("take_ownership", default=False)
"""`--take-ownership` for the `helm upgrade` this thread runs: adopt existing objects (consent given)."""

_TEMPLATE_ARGS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("template_args", default=None)
"""`--kube-version`/`--api-versions` for the `helm template` this thread runs (pyhelm3 has no such options)."""


class HelmLike(Protocol):
    """What the actions need from helm; `Helm` is the real one, tests may pass a recording fake."""

    def lint(self, chart: Path, values_files: Sequence[Path] = ()) -> HelmRun: ...
    def template(self, chart: Path, release: str, namespace: str, values: dict[str, Any], *,
                 kube_version: str | None = None, api_versions: Sequence[str] = ()) -> list[dict[str, Any]]: ...
    def upgrade_install(self, release: str, chart: Path, namespace: str, values: dict[str, Any], *,
                        wait: bool, timeout: str, atomic: bool = False, description: str = "",
                        labels: dict[str, str] | None = None, create_namespace: bool = True,
                        take_ownership: bool = False) -> dict[str, Any]: ...
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
    """The real helm CLI (`executable`), optionally pointed at one kubeconfig and context.

    `source` says where the executable came from (`--helm`, `TKE_CATALOG_HELM`, `PATH`, ...) for
    messages; the version is detected once here unless `version` is given."""

    def __init__(self, executable: str, *, kubeconfig: Path | None = None, context: str | None = None,
                 history_max: int = 10, source: str = "", version: HelmVersion | None = None) -> None:
        self.executable = executable
        self.source = source
        self.version = version if version is not None else detect_version(executable, source)
        self._command = _VersionedCommand(self.version.major, executable=executable, kubeconfig=kubeconfig,
                                          kubecontext=context, history_max_revisions=history_max)

    @property
    def major(self) -> int:
        return self.version.major

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
        code = getattr(exc, "returncode", None)
        if isinstance(code, int) and code < 0:  # killed from outside (OOM killer, kill -9, a timeout)
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return HelmError(f"helm {what} was killed by {name}" + (f"; it said: {stderr}" if stderr else
                                                                  " before it said anything"), stderr=stderr,
                             hint="re-run apply: it recovers a release left pending; check the machine's memory and "
                                  "what else may kill processes")
        if getattr(exc, "returncode", None) == 127 or "not found" in stderr and self.executable in stderr:
            return HelmError(f"helm executable {self.executable!r} not found",
                             hint="install helm, pass --helm PATH or set TKE_CATALOG_HELM")
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

    def template(self, chart: Path, release: str, namespace: str, values: dict[str, Any], *,
                 kube_version: str | None = None, api_versions: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Render the chart with one merged values dict; the objects it would create. With `kube_version`
        (and that version's `api_versions`) helm renders for that Kubernetes, so `.Capabilities` is
        honest and the chart's kubeVersion constraint is checked against it."""
        extra = ["--kube-version", kube_version] if kube_version else []
        if api_versions:
            extra += ["--api-versions", ",".join(api_versions)]
        token = _TEMPLATE_ARGS.set(extra or None)
        try:
            rendered = self._call("template", self._command.template(release, chart, values, namespace=namespace,
                                                                     include_crds=True))
        finally:
            _TEMPLATE_ARGS.reset(token)
        return [doc for doc in rendered if doc]

    def upgrade_install(self, release: str, chart: Path, namespace: str, values: dict[str, Any], *,
                        wait: bool, timeout: str, atomic: bool = False, description: str = "",
                        labels: dict[str, str] | None = None, create_namespace: bool = True,
                        take_ownership: bool = False) -> dict[str, Any]:
        """`helm upgrade --install` with values on stdin; returns helm's JSON release record. `labels` go
        on helm's release record (its Secret) in the same write, so an ownership mark can never be lost.
        `take_ownership` lets helm adopt existing objects it does not own (`--take-ownership`)."""
        token = _RELEASE_LABELS.set(dict(labels) if labels else None)
        adopt = _TAKE_OWNERSHIP.set(take_ownership)
        try:
            result = self._call(f"upgrade --install of {namespace}/{release}", self._command.install_or_upgrade(
                release, chart, values, namespace=namespace, wait=wait, timeout=timeout,
                create_namespace=create_namespace,
                # pyhelm3's default atomic flag is helm 4's; adapt_argv turns helm 3's `--atomic` into it for helm 4
                atomic=atomic, atomic_arg="--atomic", description=description or None))
        finally:
            _RELEASE_LABELS.reset(token)
            _TAKE_OWNERSHIP.reset(adopt)
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

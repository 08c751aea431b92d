"""The one exception tree of tke-catalog, and the one table of exit codes.

    ToolkitError                          base; carries a hint that says what to do next
    ├── UsageError                 (64)   wrong flags or arguments (click's own usage errors too)
    ├── InputError                  (3)   a file or value the user wrote is wrong
    │   ├── YamlError                     unreadable YAML/JSON: syntax, duplicate keys, aliases, size
    │   ├── SchemaError                   a schema itself is broken
    │   ├── CatalogError                  the catalog names missing charts, unknown apps, cycles
    │   │   └── CatalogInvalid            ... with every finding attached
    │   ├── ClusterSpecError              a Cluster object cannot be resolved into a plan
    │   │   └── PlanRejected              ... with every finding attached
    │   └── ValidationFailed              findings of severity error were reported (lint, validate)
    ├── ConflictError               (4)   we may not overwrite or take over what is there
    │   └── VersionConflict               a published version would get other content
    ├── OperationalError            (1)   the world failed us: helm, a registry, a cluster
    │   ├── HelmError                     the helm CLI failed (keeps its stderr)
    │   ├── RegistryError                 an OCI registry failed (keeps the HTTP status)
    │   │   ├── AuthenticationError       credentials refused
    │   │   └── TransportFailure          no HTTP answer at all (connection, TLS, DNS); may be retried
    │   ├── ClusterError                  the Kubernetes API failed or is unreachable
    │   │   ├── ObjectConflict            an object changed since we read it (HTTP 409) or exists
    │   │   ├── LockHeld                  another apply holds the Cluster's Lease
    │   │   ├── LeaseLost                 our Lease was deleted or taken while we worked: we stopped
    │   │   └── InventoryCorrupt          the Cluster's inventory Secret is unreadable or another's
    │   ├── PublishFailed                 some charts were not published (each one was reported)
    │   ├── MirrorFailed                  some images or charts were not mirrored (each one was reported)
    │   ├── ApplyFailed                   some releases failed or were skipped (each one was reported)
    │   └── ApplyCancelled                the user declined the plan; nothing changed
    ├── ChangesPending              (2)   `--detailed-exitcode`: the plan has changes (terraform's 2)
    └── Interrupted               (130)   Ctrl-C

Foreign exceptions are wrapped where they are caught (`raise HelmError(...) from exc`), through
`translate` where a module maps several of them. `toolkit.cli` is the one place that turns an error
into a message and `exit_code_for` into the process's exit code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = [
    "EXIT_CHANGES",
    "EXIT_CODES",
    "EXIT_CONFLICT",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_OPERATIONAL",
    "EXIT_USAGE",
    "ApplyCancelled",
    "ApplyFailed",
    "AuthenticationError",
    "CatalogError",
    "CatalogInvalid",
    "ChangesPending",
    "ClusterError",
    "ClusterSpecError",
    "ConflictError",
    "HelmError",
    "InputError",
    "InventoryCorrupt",
    "Interrupted",
    "LeaseLost",
    "LockHeld",
    "ObjectConflict",
    "OperationalError",
    "PlanRejected",
    "MirrorFailed",
    "PublishFailed",
    "RegistryError",
    "SchemaError",
    "ToolkitError",
    "TransportFailure",
    "UsageError",
    "ValidationFailed",
    "VersionConflict",
    "YamlError",
    "exit_code_for",
    "translate",
]

EXIT_OK = 0
EXIT_OPERATIONAL = 1
EXIT_CHANGES = 2
EXIT_INPUT = 3
EXIT_CONFLICT = 4
EXIT_USAGE = 64
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success (with --detailed-exitcode: success and nothing to change)",
    EXIT_OPERATIONAL: "operational failure: helm, a registry or the cluster failed; retrying may help",
    EXIT_CHANGES: "changes pending (only with plan --detailed-exitcode)",
    EXIT_INPUT: "invalid input: a Cluster file, values, chart or catalog is wrong; fix it and re-run",
    EXIT_CONFLICT: "conflict: a published version with other content, or something we may not take over",
    EXIT_USAGE: "usage error: an unknown flag, a missing argument, flags that do not go together",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); re-running resumes",
}
"""Every exit code and its meaning: the README's table is generated from this and tested against it."""


class ToolkitError(Exception):
    """Base of every error the toolkit raises on purpose.

    `message` says what went wrong and where; `hint` says how to fix it. `silent` errors only set
    the exit code (their story was already told on the way).
    """

    exit_code = EXIT_OPERATIONAL
    silent = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(ToolkitError):
    """The command line is wrong: flags that do not go together, a missing argument."""

    exit_code = EXIT_USAGE


class InputError(ToolkitError):
    """A file or value written by the user is invalid."""

    exit_code = EXIT_INPUT


class YamlError(InputError):
    """A YAML or JSON document cannot be read: syntax, duplicate keys, aliases, size limits.

    `source`, `line` and `problem` say the same as the message, in parts (for findings).
    """

    def __init__(self, message: str, *, hint: str | None = None, source: str = "", line: int | None = None,
                 problem: str = "") -> None:
        super().__init__(message, hint=hint)
        self.source, self.line, self.problem = source, line, problem or message


class SchemaError(InputError):
    """A JSON schema is itself invalid or cannot be resolved."""


class CatalogError(InputError):
    """The catalog is inconsistent: missing charts, unknown apps, dependency cycles."""


class ClusterSpecError(InputError):
    """A Cluster object cannot be resolved into a release plan."""


class _CarriesFindings(InputError):
    """An input error that carries every finding (`toolkit.core.findings.Finding`) it was made of."""

    def __init__(self, message: str, *, findings: Sequence[Any] = (), hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.findings = list(findings)


class CatalogInvalid(_CarriesFindings, CatalogError):
    """The catalog file breaks its schema or its own rules; `findings` lists every problem."""


class PlanRejected(_CarriesFindings, ClusterSpecError):
    """The Cluster cannot be planned; `findings` holds every error (and warning) found."""


class ValidationFailed(_CarriesFindings):
    """Findings of severity error were reported (shown as text, or carried into the JSON document)."""



class ConflictError(ToolkitError):
    """Something is there that we may not overwrite or take over without the user's consent."""

    exit_code = EXIT_CONFLICT


class OperationalError(ToolkitError):
    """Something outside the user's files failed: helm, a registry, a cluster."""

    exit_code = EXIT_OPERATIONAL


class HelmError(OperationalError):
    """The helm CLI failed; `stderr` holds what it said."""

    def __init__(self, message: str, *, stderr: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.stderr = stderr


class RegistryError(OperationalError):
    """An OCI registry failed; `status` holds the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class AuthenticationError(RegistryError):
    """The registry refused the credentials (or asked for some and got none)."""


class TransportFailure(RegistryError):
    """No HTTP answer at all: `tls` for a failed handshake, `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, tls: bool = False, permanent: bool = False) -> None:
        super().__init__(message)
        self.tls, self.permanent = tls, permanent


class VersionConflict(ConflictError):
    """A chart version already published with other content would be overwritten."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class ClusterError(OperationalError):
    """The Kubernetes API server failed or could not be reached; `status` holds the HTTP status when
    there was one."""

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class ObjectConflict(ClusterError):
    """The object changed since we read it (HTTP 409) or already exists."""


class LockHeld(ClusterError):
    """Another apply holds this Cluster's Lease."""


class LeaseLost(ClusterError):
    """The Cluster's Lease was deleted, taken over or could not be renewed while we held it."""


class InventoryCorrupt(ClusterError):
    """The Cluster's inventory Secret cannot be read, or belongs to another Cluster or tool."""


class PublishFailed(OperationalError):
    """Some charts could not be published; each failure was reported with its chart."""


class MirrorFailed(OperationalError):
    """Some images or charts could not be mirrored; each failure was reported with its reference."""


class ApplyFailed(OperationalError):
    """Some releases failed or were skipped; each was reported with its reason."""


class ApplyCancelled(OperationalError):
    """The user declined the plan; nothing was changed."""


class ChangesPending(ToolkitError):
    """`plan --detailed-exitcode` found changes: not a failure, terraform's exit code 2."""

    exit_code = EXIT_CHANGES
    silent = True

    def __init__(self, message: str = "changes pending") -> None:
        super().__init__(message)


class Interrupted(ToolkitError):
    """The user pressed Ctrl-C."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, message: str = "interrupted", *, hint: str | None = "re-run the same command to resume") -> None:
        super().__init__(message, hint=hint)


def exit_code_for(error: BaseException) -> int:
    """Map any exception to the process exit code: ours by class, Ctrl-C 130, anything else 1."""
    if isinstance(error, ToolkitError):
        return error.exit_code
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    return EXIT_OPERATIONAL


@contextmanager
def translate(table: Sequence[tuple[type[BaseException] | tuple[type[BaseException], ...],
                                    Callable[[BaseException], ToolkitError]]]) -> Iterator[None]:
    """Re-raise foreign exceptions as ours: the first `(foreign types, make)` row that matches wins,
    and the original stays chained (`raise ... from exc`). Our own errors pass through untouched."""
    try:
        yield
    except ToolkitError:
        raise
    except BaseException as exc:
        for types, make in table:
            if isinstance(exc, types):
                raise make(exc) from exc
        raise

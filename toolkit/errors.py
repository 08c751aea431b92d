"""The one exception tree of tke-catalog, and the one place that maps errors to exit codes.

    ToolkitError                      base; carries a hint that says what to do next
    ├── UsageError              (2)   wrong flags or arguments; a verb that does not exist yet
    ├── InputError              (3)   a file or value the user wrote is wrong
    │   ├── YamlError                 unreadable YAML/JSON: syntax, duplicate keys, aliases, size
    │   ├── SchemaError               a schema itself is broken
    │   ├── CatalogError              the catalog names missing charts, unknown apps, cycles
    │   ├── ClusterSpecError          a Cluster object cannot be resolved into a plan
    │   └── ValidationFailed          findings of severity error were reported (lint, validate)
    └── OperationalError        (1)   the world failed us: helm, a registry, a cluster
        ├── HelmError                 the helm CLI failed (keeps its stderr)
        ├── RegistryError             an OCI registry failed (keeps the HTTP status)
        │   ├── AuthenticationError   credentials refused
        │   └── VersionConflict       a released version would be overwritten with other content
        └── ClusterError              the Kubernetes API failed or is unreachable

Foreign exceptions are wrapped where they are caught (`raise HelmError(...) from exc`).
"""

from __future__ import annotations

__all__ = [
    "EXIT_CHANGES",
    "EXIT_INPUT",
    "EXIT_OK",
    "EXIT_OPERATIONAL",
    "EXIT_USAGE",
    "AuthenticationError",
    "CatalogError",
    "ClusterError",
    "ClusterSpecError",
    "HelmError",
    "InputError",
    "OperationalError",
    "RegistryError",
    "SchemaError",
    "ToolkitError",
    "UsageError",
    "ValidationFailed",
    "VersionConflict",
    "YamlError",
    "exit_code_for",
]

EXIT_OK = 0
EXIT_OPERATIONAL = 1
EXIT_USAGE = 2
EXIT_CHANGES = 2  # `plan --detailed-exitcode`: changes are pending
EXIT_INPUT = 3


class ToolkitError(Exception):
    """Base of every error the toolkit raises on purpose.

    `message` says what went wrong and where; `hint` says how to fix it.
    """

    exit_code = EXIT_OPERATIONAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(ToolkitError):
    """The command line is wrong, or names a verb that is not implemented yet."""

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


class ValidationFailed(InputError):
    """Findings of severity error were reported; the findings themselves were already shown."""


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


class VersionConflict(RegistryError):
    """A chart version already published with other content would be overwritten."""


class ClusterError(OperationalError):
    """The Kubernetes API server failed or could not be reached."""


def exit_code_for(error: BaseException) -> int:
    """Map any exception to the process exit code: ours by class, anything else is operational."""
    if isinstance(error, ToolkitError):
        return error.exit_code
    return EXIT_OPERATIONAL

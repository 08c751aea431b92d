"""`tke-catalog publish`."""

from __future__ import annotations

from toolkit.cli._stub import not_implemented

COMMANDS = [not_implemented("publish", "Push the built charts to an OCI registry.")]

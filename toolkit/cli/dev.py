"""`tke-catalog dev`."""

from __future__ import annotations

from toolkit.cli._stub import not_implemented

COMMANDS = [not_implemented("dev", "Bring local development servers (registry, control plane) up and down.")]

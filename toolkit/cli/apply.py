"""`tke-catalog apply`."""

from __future__ import annotations

from toolkit.cli._stub import not_implemented

COMMANDS = [not_implemented("apply", "Install the release plan into a cluster.")]

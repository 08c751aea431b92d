"""`tke-catalog plan`."""

from __future__ import annotations

from toolkit.cli._stub import not_implemented

COMMANDS = [not_implemented("plan", "Resolve a Cluster's app list into a release plan.")]

"""`tke-catalog apps`."""

from __future__ import annotations

from toolkit.cli._stub import not_implemented

COMMANDS = [not_implemented("apps", "Edit a Cluster file's app list.")]

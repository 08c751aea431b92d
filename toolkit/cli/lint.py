"""`tke-catalog lint`."""

from __future__ import annotations

from toolkit.cli._stub import not_implemented

COMMANDS = [not_implemented("lint", "Lint the catalog's charts, schemas and values.")]

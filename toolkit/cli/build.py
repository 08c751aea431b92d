"""`tke-catalog build`."""

from __future__ import annotations

from toolkit.cli._stub import not_implemented

COMMANDS = [not_implemented("build", "Package every chart into reproducible archives.")]

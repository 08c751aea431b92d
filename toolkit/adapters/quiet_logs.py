"""Libraries that log on the root logger (urllib3's retries, the kubernetes client) would print raw
lines on stderr through logging's last-resort handler when nothing is configured. The adapters that
bring such libraries in call `quiet_root()` when imported, so `--help` never pays for `logging`."""

from __future__ import annotations

import logging

__all__ = ["quiet_root"]


def quiet_root() -> None:
    """Give the root logger a handler that drops records (once)."""
    root = logging.getLogger()
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())

"""Go durations as helm takes them (`90s`, `5m`, `1h30m`), parsed once for the CLI and for apply (pure)."""

from __future__ import annotations

import re

__all__ = ["duration_seconds"]

_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(text: str) -> float | None:
    """Seconds in a Go duration, or None when `text` is not one."""
    text = text.strip()
    if not text or _PART.sub("", text):
        return None
    return sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(text))

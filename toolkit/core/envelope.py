"""The one JSON document every verb prints under `--output json`, pure: a `formatVersion`, the verb,
`ok`, a `summary` with the same keys everywhere, the `findings`, then the verb's own payload; on a
failure, the `error` too (message, hint, exit code), so stdout always holds exactly one document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["FORMAT_VERSION", "SUMMARY_KEYS", "envelope", "summary_from"]

FORMAT_VERSION = 1
"""Raised when a key changes meaning or goes away; new keys may appear within a version."""

SUMMARY_KEYS = ("install", "upgrade", "uninstall", "unchanged", "failed", "skipped")
"""Present in every summary, zero when a verb has nothing of the kind."""

# what each verb's own counts mean in the shared keys (others stay as they are, next to them)
_SHARED = {
    "installed": "install", "upgraded": "upgrade", "uninstalled": "uninstall", "noop": "unchanged",
    "unchanged": "unchanged", "recorded": "unchanged", "kept": "unchanged", "failed": "failed",
    "installed, not recorded": "failed", "refused": "skipped", "skipped": "skipped", "conflict": "skipped",
    "install": "install", "upgrade": "upgrade", "uninstall": "uninstall",
}


def _camel(name: str) -> str:
    words = name.replace(",", " ").split()
    return words[0] + "".join(w.capitalize() for w in words[1:]) if words else name


def summary_from(counts: Mapping[str, int]) -> dict[str, int]:
    """The shared keys, summed from a verb's own counts, followed by those counts that add detail (under
    their own camelCase names, when non-zero and not already a shared key)."""
    out = dict.fromkeys(SUMMARY_KEYS, 0)
    for name, count in counts.items():
        if name in _SHARED:
            out[_SHARED[name]] += count
    for name, count in counts.items():
        key = _camel(name)
        if count and key not in out:
            out[key] = count
    return out


def envelope(verb: str, payload: Mapping[str, Any], *, error: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The document for `verb` around its `payload`; the payload's own `summary`, `findings` and `ok`
    are folded in (a payload without a summary gets zeros)."""
    document: dict[str, Any] = {
        "formatVersion": FORMAT_VERSION,
        "verb": verb,
        "ok": bool(payload.get("ok", True)) and error is None,
        "summary": summary_from(payload.get("summary") or {}),
        "findings": list(payload.get("findings") or []),
    }
    document.update({k: v for k, v in payload.items() if k not in document})
    if error is not None:
        document["error"] = dict(error)
    return document

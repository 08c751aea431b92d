"""A unified diff of a release's objects: what helm recorded as installed against what the plan would
render, object by object, pure. Secrets' data never shows: each value becomes a digest of itself, so a
changed secret still shows as changed."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from toolkit.core.values import redact
from toolkit.core.yamldoc import dump_plain

__all__ = ["manifest_diff", "object_key", "shown_object"]


def object_key(obj: Mapping[str, Any]) -> str:
    """`Kind namespace/name` (no namespace for cluster-scoped objects)."""
    meta = obj.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind', '?')} {where}{meta.get('name', '?')}"


def _digest(value: Any) -> str:
    return "<redacted sha256:" + hashlib.sha256(str(value).encode()).hexdigest()[:12] + ">"


def shown_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as the diff shows it: a Secret's data as digests, secret-looking keys redacted."""
    shown = dict(redact(dict(obj)))
    if obj.get("kind") == "Secret":
        for field in ("data", "stringData"):
            if isinstance(obj.get(field), Mapping):
                shown[field] = {k: _digest(v) for k, v in obj[field].items()}
    return shown


def manifest_diff(installed: Iterable[Mapping[str, Any]], rendered: Iterable[Mapping[str, Any]], label: str) -> str:
    """A unified diff, object by object in a stable order, of `installed` (helm's record) against
    `rendered` (what the plan would install); empty when they are the same."""
    old = {object_key(o): o for o in installed if isinstance(o, Mapping)}
    new = {object_key(o): o for o in rendered if isinstance(o, Mapping)}
    chunks: list[str] = []
    for key in sorted(set(old) | set(new)):
        before = dump_plain(shown_object(old[key])).splitlines() if key in old else []
        after = dump_plain(shown_object(new[key])).splitlines() if key in new else []
        if before == after:
            continue
        chunks += difflib.unified_diff(before, after, f"{label} {key} (installed)", f"{label} {key} (planned)",
                                       lineterm="")
    return "\n".join(chunks)

"""Helm's values merge with provenance, value diffs and secret redaction.

Pure. Layers are applied in this documented order, each over the previous ones:

    1. chart defaults        the chart's values.yaml
    2. catalog defaults      `values:` of the app in catalog/catalog.yaml
    3. cluster features      values derived from the Cluster (networkArgs, clusterCIDR, dnsDomain ...)
    4. rawValues             the bootstrap app's `values.rawValues`
    5. values[]              the bootstrap app's `values.values` (helm `--set` syntax)

Like helm: maps merge recursively, lists and scalars replace, and a `null` deletes the key (a later
layer may set it again). Provenance records which layer set each leaf.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.findings import json_path

__all__ = [
    "LAYER_CATALOG",
    "LAYER_CHART",
    "LAYER_FEATURES",
    "LAYER_RAW",
    "LAYER_SET",
    "REDACTED",
    "MergedValues",
    "changed_paths",
    "is_secret_key",
    "merge_layers",
    "merge_values",
    "path_is_secret",
    "redact",
]

LAYER_CHART = "chart defaults"
LAYER_CATALOG = "catalog defaults"
LAYER_FEATURES = "cluster features"
LAYER_RAW = "rawValues"
LAYER_SET = "values[]"

REDACTED = "<redacted>"
_SECRET = re.compile(r"password|passwd|token|secret|key|auth|credential", re.IGNORECASE)

Path = tuple[str | int, ...]


@dataclass
class MergedValues:
    """The merged values and, for every leaf path, the name of the layer that set it."""

    values: dict[str, Any]
    provenance: dict[Path, str] = field(default_factory=dict)

    def layer_of(self, path: Path) -> str | None:
        """The layer that set `path`, its nearest parent, or (for a map) the layers below it."""
        for end in range(len(path), -1, -1):
            hit = self.provenance.get(path[:end])
            if hit is not None:
                return hit
        below = sorted({layer for p, layer in self.provenance.items() if p[: len(path)] == path})
        return " and ".join(below) if below else None


def _record(prov: dict[Path, str], path: Path, value: Any, layer: str) -> None:
    if isinstance(value, Mapping) and value:
        for key, child in value.items():
            _record(prov, path + (str(key),), child, layer)
    else:
        prov[path] = layer


def _forget(prov: dict[Path, str], path: Path) -> None:
    n = len(path)
    for p in [p for p in prov if p[:n] == path]:
        del prov[p]


def _merge_into(dst: dict[str, Any], src: Mapping[str, Any], prov: dict[Path, str] | None, layer: str,
                path: Path) -> None:
    for key, value in src.items():
        key = str(key)
        here = path + (key,)
        if value is None:
            dst.pop(key, None)
            if prov is not None:
                _forget(prov, here)
            continue
        current = dst.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            _merge_into(current, value, prov, layer, here)
            continue
        if prov is not None:
            _forget(prov, here)
            _record(prov, here, value, layer)
        dst[key] = _strip_nulls(_copy(value)) if isinstance(value, Mapping) else _copy(value)


def _copy(value: Any) -> Any:
    """A deep copy of plain data (much faster than copy.deepcopy for values trees)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _strip_nulls(v) for k, v in value.items() if v is not None}
    return value


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` merged over `base` with helm's rules; neither input is changed."""
    out = _strip_nulls(_copy(dict(base)))
    assert isinstance(out, dict)
    _merge_into(out, override, None, "", ())
    return out


def merge_layers(layers: Sequence[tuple[str, Mapping[str, Any] | None]], *,
                 base: MergedValues | None = None) -> MergedValues:
    """Merge `(layer name, values)` pairs in order, recording which layer set each leaf.

    `base` (left unchanged) is the result of merging earlier layers: the layers then go over a copy of it.
    """
    out: dict[str, Any] = _copy(base.values) if base is not None else {}
    prov: dict[Path, str] = dict(base.provenance) if base is not None else {}
    for name, values in layers:
        if values:
            _merge_into(out, values, prov, name, ())
    return MergedValues(out, prov)


def _leaves(value: Any, path: Path, out: dict[Path, Any]) -> None:
    if isinstance(value, Mapping) and value:
        for key, child in value.items():
            _leaves(child, path + (str(key),), out)
    else:
        out[path] = value


def changed_paths(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[str]:
    """JSON paths of the leaves added, removed or changed between two values trees, sorted."""
    before: dict[Path, Any] = {}
    after: dict[Path, Any] = {}
    _leaves(old or {}, (), before)
    _leaves(new or {}, (), after)
    keys = set(before) | set(after)
    changed = [p for p in keys if p not in before or p not in after or before[p] != after[p]]
    return sorted(json_path(p) for p in changed if p)


def changed_leaves(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[tuple[str, Any, Any]]:
    """(JSON path, old, new) of every leaf added, removed or changed, secrets redacted, sorted by path.
    A missing side is None."""
    before: dict[Path, Any] = {}
    after: dict[Path, Any] = {}
    _leaves(old or {}, (), before)
    _leaves(new or {}, (), after)
    changed = [p for p in set(before) | set(after) if p and (p not in before or p not in after or before[p] != after[p])]
    shown_before: dict[Path, Any] = {}
    shown_after: dict[Path, Any] = {}
    _leaves(redact(old or {}), (), shown_before)
    _leaves(redact(new or {}), (), shown_after)
    def shown(side: dict[Path, Any], raw: dict[Path, Any], p: Path) -> Any:
        return side.get(p, REDACTED if p in raw else None)  # a leaf below a secret key: its key was redacted

    return sorted((json_path(p), shown(shown_before, before, p), shown(shown_after, after, p)) for p in changed)


def is_secret_key(key: str) -> bool:
    """True for keys whose values must never be shown (password, token, secret, key, auth, ...)."""
    return bool(_SECRET.search(key))


def redact(value: Any) -> Any:
    """A copy of `value` with everything under a secret-looking key replaced by `<redacted>`."""
    if isinstance(value, Mapping):
        return {k: (REDACTED if is_secret_key(str(k)) and v is not None else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def path_is_secret(path: Sequence[str | int]) -> bool:
    """True when any key along `path` looks secret (so the value at `path` must be redacted)."""
    return any(isinstance(p, str) and is_secret_key(p) for p in path)

"""Validate data against JSON schemas (2020-12) offline, returning findings instead of raising.

Two validators, one verdict: jsonschema-rs (a complete 2020-12 implementation in Rust) answers "valid?"
for each instance, and only an instance it finds invalid (or a schema it cannot compile) goes through
jsonschema, whose errors carry the paths and messages our findings are made of. A fleet's values are
valid almost always, so they cost the fast check alone.

Pure: each schema is compiled once and cached; `$ref`s resolve only against the schemas handed in
(plus the JSON Schema meta-schemas), never over the network. Findings carry the JSON path, the line
(when a round-trip tree is given) and, for merged values, the layer that set the offending value.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from toolkit.core.findings import Finding, Severity, json_path
from toolkit.core.values import REDACTED, is_secret_key
from toolkit.core.yamldoc import line_of
from toolkit.errors import SchemaError

if TYPE_CHECKING:  # jsonschema loads when something is invalid or a schema is checked (not for a valid plan)
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
    from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]
    from referencing import Registry

__all__ = ["LayerOf", "build_registry", "check_schema", "compile_validator", "did_you_mean", "json_type_name",
           "validate_instance"]

LayerOf = Callable[[tuple[str | int, ...]], str | None]
"""Given the path of a value, name the layer (file, default, --set ...) that set it."""

_MAX_CACHE = 512
_by_identity: dict[int, tuple[Any, Draft202012Validator]] = {}
_by_digest: dict[str, Draft202012Validator] = {}


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of `choices` to `word`, or None when nothing is close."""
    lowered = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def _meta_registry() -> Registry[Any]:
    from jsonschema_specifications import REGISTRY as SPECIFICATIONS  # type: ignore[import-untyped]

    registry: Registry[Any] = SPECIFICATIONS
    return registry


def build_registry(schemas: Iterable[Mapping[str, Any]] = ()) -> Registry[Any]:
    """A registry of the given schemas (by `$id`) and the meta-schemas; nothing is ever fetched."""
    from referencing import Resource
    from referencing.jsonschema import DRAFT202012

    resources = [
        (str(s["$id"]), Resource.from_contents(dict(s), default_specification=DRAFT202012))
        for s in schemas
        if isinstance(s, Mapping) and isinstance(s.get("$id"), str)
    ]
    return _meta_registry().with_resources(resources)


def _digest(schema: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(schema, sort_keys=True, default=str).encode()).hexdigest()


def compile_validator(schema: Mapping[str, Any], *, registry: Registry[Any] | None = None) -> Draft202012Validator:
    """The compiled validator of `schema`, built once per schema (by identity, then by content)."""
    from jsonschema import Draft202012Validator

    cached = _by_identity.get(id(schema))
    if cached is not None and cached[0] is schema and registry is None:
        return cached[1]
    digest = _digest(schema) if registry is None else ""
    validator = _by_digest.get(digest) if digest else None
    if validator is None:
        reg = registry if registry is not None else build_registry([schema])
        validator = Draft202012Validator(schema, registry=reg)
        if digest:
            if len(_by_digest) >= _MAX_CACHE:
                _by_digest.clear()
            _by_digest[digest] = validator
    if registry is None:
        if len(_by_identity) >= _MAX_CACHE:
            _by_identity.clear()
        _by_identity[id(schema)] = (schema, validator)
    return validator


def check_schema(schema: Any, file: str) -> list[Finding]:
    """Findings for a schema that is not itself a valid 2020-12 schema (empty when it is)."""
    if not isinstance(schema, Mapping):
        return [Finding(Severity.ERROR, "a JSON schema must be an object", file=file, rule="schema-invalid",
                        hint="write the schema as a JSON object with `$schema` and `type`")]
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError as _JsonSchemaError

    findings: list[Finding] = []
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA, registry=_meta_registry())
    for error in sorted(meta.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path))):
        findings.append(Finding(Severity.ERROR, f"invalid schema: {error.message}", file=file,
                                path=json_path(error.absolute_path), rule="schema-invalid",
                                hint="fix the schema keyword at that path (JSON Schema 2020-12)"))
    declared = schema.get("$schema")
    if declared is not None and "2020-12" not in str(declared):
        findings.append(Finding(Severity.WARNING, f"`$schema` is {declared!r}; helm and this toolkit validate with 2020-12",
                                file=file, path="$.$schema", rule="schema-draft",
                                hint='set "$schema": "https://json-schema.org/draft/2020-12/schema"'))
    if not findings:
        try:
            Draft202012Validator.check_schema(schema)
        except _JsonSchemaError as exc:  # pragma: no cover - covered by the meta-schema walk above
            findings.append(Finding(Severity.ERROR, f"invalid schema: {exc.message}", file=file, rule="schema-invalid"))
    return findings


def json_type_name(value: Any) -> str:
    """The JSON type of a parsed value: null, boolean, integer, number, string, object or array."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _quoted(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _expand(error: ValidationError) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    """(path, message, hint) triples for one jsonschema error; extra keys become one entry each. A value
    under a secret-looking key (password, token, ...) is never quoted."""
    path: tuple[str | int, ...] = tuple(error.absolute_path)
    kind = error.validator
    secret = any(isinstance(p, str) and is_secret_key(p) for p in path)

    def _short(value: Any) -> str:
        return REDACTED if secret else _quoted(value)

    if kind in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, Mapping):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = list(schema.get("properties", {}) or {})
        extras = _extra_keys(error, known)
        out: list[tuple[tuple[str | int, ...], str, str | None]] = []
        for extra in extras:
            guess = did_you_mean(str(extra), known)
            hint = f"did you mean `{guess}`?" if guess else (
                f"allowed keys here: {', '.join(sorted(known))}" if known else "remove the key")
            out.append((path + (str(extra),), f"unknown field `{extra}`", hint))
        if out:
            return out
    if kind == "type":
        expected = error.validator_value
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return [(path, f"expected {wanted}, got {json_type_name(error.instance)} {_short(error.instance)}",
                 f"write {'an' if wanted[0] in 'aeiou' else 'a'} {wanted} here" + (" (quote it to make it a string)" if wanted == "string" else ""))]
    if kind == "enum":
        choices = [str(c) for c in error.validator_value]
        guess = did_you_mean(str(error.instance), choices) if isinstance(error.instance, str) else None
        hint = f"did you mean `{guess}`?" if guess else f"use one of: {', '.join(choices)}"
        return [(path, f"{_short(error.instance)} is not one of {', '.join(choices)}", hint)]
    if kind == "required":
        return [(path, error.message, "add the missing key")]
    if kind in ("maxItems", "maxLength", "maxProperties") and hasattr(error.instance, "__len__"):
        unit = {"maxItems": "items", "maxLength": "characters", "maxProperties": "keys"}[kind]
        return [(path, f"{len(error.instance)} {unit}, more than the limit of {error.validator_value}",
                 f"keep it to at most {error.validator_value} {unit}")]
    if kind in ("oneOf", "anyOf") and error.context:
        best = min(error.context, key=lambda e: (-len(e.absolute_path), e.validator != "type"))
        inner = _expand(best)
        return [(p, m, h) for p, m, h in inner]
    message = error.message if len(error.message) <= 400 else error.message[:400] + " ..."  # never the whole document
    return [(path, f"invalid value ({kind} {_quoted(error.validator_value)})" if secret else message, None)]


def _extra_keys(error: ValidationError, known: Sequence[str]) -> list[str]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    patterns = list((schema.get("patternProperties") or {}).keys())
    import re

    extras = []
    for key in error.instance:
        if key in known:
            continue
        if any(re.search(p, str(key)) for p in patterns):
            continue
        extras.append(str(key))
    return extras


_results: dict[tuple[int, str], list[tuple[tuple[str | int, ...], str, str | None]]] = {}
_fast: dict[int, tuple[Mapping[str, Any], Any]] = {}


def fast_validator(schema: Mapping[str, Any]) -> Any:
    """jsonschema-rs's validator of `schema` (formats as annotations, as jsonschema and helm treat them;
    nothing fetched), once per schema object; None when it cannot compile it (then jsonschema decides)."""
    cached = _fast.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    try:
        fast: Any = jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=False, offline=True)
    except Exception:  # noqa: BLE001 - any schema it refuses is simply not on the fast path
        fast = None
    if len(_fast) >= _MAX_CACHE:
        _fast.clear()
    _fast[id(schema)] = (schema, fast)
    return fast


def _valid_fast(schema: Mapping[str, Any], instance: Any) -> bool:
    fast = fast_validator(schema)
    if fast is None:
        return False
    try:
        return bool(fast.is_valid(instance))
    except (ValueError, TypeError, OverflowError):  # not JSON-shaped (a YAML date, a huge int): the slow path
        return False


def _errors_of(validator: Draft202012Validator, instance: Any,
               who: str) -> list[tuple[tuple[str | int, ...], str, str | None]]:
    """The expanded errors of `instance`, memoized by content: fleets repeat the same invalid values too."""
    from referencing.exceptions import Unresolvable

    try:
        key = (id(validator), json.dumps(instance, sort_keys=True, separators=(",", ":")))
    except (TypeError, ValueError):
        key = None
    if key is not None and key in _results:
        return _results[key]
    try:
        out = [item for error in validator.iter_errors(instance) for item in _expand(error)]
    except Unresolvable as exc:
        raise SchemaError(f"{who}: the schema has a `$ref` that cannot be resolved offline: {exc}",
                          hint="inline the referenced schema or ship it in schemas/ with its `$id`") from exc
    if key is not None:
        if len(_results) >= 4096:
            _results.clear()
        _results[key] = out
    return out


def validate_instance(
    instance: Any,
    schema: Mapping[str, Any],
    *,
    file: str,
    source_root: Any = None,
    layer_of: LayerOf | None = None,
    registry: Registry[Any] | None = None,
    path_prefix: Sequence[str | int] = (),
    rule: str = "schema",
    subject: str = "",
) -> list[Finding]:
    """Every way `instance` breaks `schema`, as error findings sorted by path.

    `source_root` (a round-trip tree from `yamldoc.parse_yaml`) adds line numbers; `layer_of` names the
    layer that set a value; `path_prefix` places the instance inside a larger document (for paths and
    lines); `subject` prefixes messages (e.g. `release cilium:`).
    """
    if registry is None and _valid_fast(schema, instance):
        return []
    validator = compile_validator(schema, registry=registry)
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for rel_path, message, hint in _errors_of(validator, instance, subject or file):
            full = tuple(path_prefix) + rel_path
            where = json_path(full)
            if (where, message) in seen:
                continue
            seen.add((where, message))
            text = f"{subject}: {message}" if subject else message
            layer = layer_of(rel_path) if layer_of is not None else None
            if layer:
                text += f" (set by {layer})"
            line = line_of(source_root, list(full)) if source_root is not None else None
            findings.append(Finding(Severity.ERROR, text, file=file, path=where, line=line, hint=hint, rule=rule))
    findings.sort(key=lambda f: (f.line or 0, f.path, f.message))
    return findings

"""values.py (helm merge with provenance, diff, redaction) and schema.py (offline validation)."""

from __future__ import annotations

from typing import Any

from toolkit.core.findings import Severity
from toolkit.core.schema import check_schema, compile_validator, validate_instance
from toolkit.core.values import changed_paths, merge_layers, merge_values, redact
from toolkit.core.yamldoc import parse_yaml, to_plain


def test_maps_merge_lists_and_scalars_replace() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    out = merge_values(base, {"a": {"c": [3]}, "d": "y"})
    assert out == {"a": {"b": 1, "c": [3]}, "d": "y"}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": "x"}


def test_null_deletes_and_a_later_layer_may_set_again() -> None:
    merged = merge_layers([("chart", {"a": {"b": 1, "c": 2}}), ("raw", {"a": {"b": None}}), ("set", {"x": None})])
    assert merged.values == {"a": {"c": 2}}
    again = merge_layers([("chart", {"a": 1}), ("raw", {"a": None}), ("set", {"a": 5})])
    assert again.values == {"a": 5} and again.provenance[("a",)] == "set"


def test_provenance_names_the_layer_of_each_leaf() -> None:
    merged = merge_layers([("chart", {"a": {"b": 1, "c": 2}, "l": [1]}), ("raw", {"a": {"c": 3}}),
                           ("set", {"l": [9]})])
    assert merged.layer_of(("a", "b")) == "chart"
    assert merged.layer_of(("a", "c")) == "raw"
    assert merged.layer_of(("l", 0)) == "set"
    assert merged.layer_of(("a",)) == "chart and raw"


def test_scalar_replacing_a_map_forgets_the_old_leaves() -> None:
    merged = merge_layers([("chart", {"a": {"b": 1}}), ("raw", {"a": "flat"})])
    assert merged.values == {"a": "flat"}
    assert merged.provenance == {("a",): "raw"}


def test_changed_paths() -> None:
    old = {"a": {"b": 1, "c": 2}, "gone": True}
    new = {"a": {"b": 1, "c": 3}, "new": [1]}
    assert changed_paths(old, new) == ["$.a.c", "$.gone", "$.new"]
    assert changed_paths(new, new) == []


def test_redact_hides_secret_keys_and_everything_below() -> None:
    values = {"db": {"password": "p", "host": "h"}, "auth": {"user": "u"}, "apiToken": "t", "list": [{"secretKey": 1}]}
    assert redact(values) == {"db": {"password": "<redacted>", "host": "h"}, "auth": "<redacted>",
                              "apiToken": "<redacted>", "list": [{"secretKey": "<redacted>"}]}


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {"replicas": {"type": "integer"}, "mode": {"enum": ["overlay", "underlay"]},
                   "nested": {"$ref": "#/$defs/nested"}},
    "$defs": {"nested": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}},
}


def test_validate_collects_every_error_with_paths_lines_and_did_you_mean() -> None:
    text = "replicas: two\nmode: overlai\nreplica: 1\nnested: {}\n"
    tree = parse_yaml(text, "v.yaml")
    findings = validate_instance(to_plain(tree), SCHEMA, file="v.yaml", source_root=tree)
    got = {(f.path, f.line) for f in findings}
    assert got == {("$.replicas", 1), ("$.mode", 2), ("$.replica", 3), ("$.nested", 4)}
    typo = next(f for f in findings if f.path == "$.replica")
    assert typo.hint == "did you mean `replicas`?"
    enum = next(f for f in findings if f.path == "$.mode")
    assert enum.hint == "did you mean `overlay`?"


def test_validate_names_the_layer() -> None:
    findings = validate_instance({"replicas": "x"}, SCHEMA, file="c.yaml", layer_of=lambda p: "rawValues",
                                 subject="release `a`")
    assert findings[0].message.startswith("release `a`: expected integer") and "(set by rawValues)" in findings[0].message


def test_validators_are_compiled_once() -> None:
    assert compile_validator(SCHEMA) is compile_validator(SCHEMA)
    assert compile_validator(dict(SCHEMA)) is compile_validator(SCHEMA)  # same content, same validator


def test_remote_refs_are_never_fetched() -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "properties": {"a": {"$ref": "https://example.invalid/remote.json"}}}
    import pytest

    from toolkit.errors import SchemaError

    with pytest.raises(SchemaError, match="cannot be resolved offline"):
        validate_instance({"a": 1}, schema, file="x")


def test_check_schema() -> None:
    assert check_schema(SCHEMA, "s.json") == []
    bad = check_schema({"type": "strin"}, "s.json")
    assert bad and bad[0].severity is Severity.ERROR
    old = check_schema({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}, "s.json")
    assert [f.severity for f in old] == [Severity.WARNING]

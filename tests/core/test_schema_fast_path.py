"""The fast validator (jsonschema-rs) and jsonschema must agree on valid/invalid for our schemas: a
fast "valid" that jsonschema would refuse would hide an error. Checked on every chart schema and the
Cluster schema, with instances mutated from the charts' own defaults."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from toolkit.core.schema import build_registry, fast_validator

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted((ROOT / "schemas" / "charts").glob("*.schema.json"))
ODD_VALUES: list[Any] = [None, True, 0, -1, 1.5, "", "x", "1.2.3", [], [1, "a"], {}, {"unknownKey": 1}, 10**20]


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [path] + [p for k, v in value.items() for p in leaves(v, (*path, k))]
    if isinstance(value, list):
        return [path] + [p for i, v in enumerate(value) for p in leaves(v, (*path, i))]
    return [path]


def mutated(base: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    instance = copy.deepcopy(base)
    for _ in range(rng.randint(1, 3)):
        paths = leaves(instance)
        path = rng.choice(paths)
        if not path:
            instance["extraTopLevel"] = rng.choice(ODD_VALUES)
            continue
        parent = instance
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
    return instance


def defaults_for(schema_file: Path) -> dict[str, Any]:
    chart = schema_file.name.removesuffix(".schema.json")
    for folder in (ROOT / "charts" / "platform" / chart, ROOT / "charts" / "addons" / chart):
        if (folder / "values.yaml").is_file():
            import yaml

            return yaml.safe_load((folder / "values.yaml").read_text()) or {}
    return {}


@pytest.mark.parametrize("schema_file", SCHEMAS, ids=lambda p: p.name)
def test_fast_and_full_validators_agree_on_mutated_values(schema_file: Path) -> None:
    schema = json.loads(schema_file.read_text())
    slow = Draft202012Validator(schema, registry=build_registry([schema]))
    fast = fast_validator(schema)
    assert fast is not None, f"{schema_file.name}: jsonschema-rs cannot compile it (the fast path is off)"
    base = defaults_for(schema_file)
    rng = random.Random(schema_file.name)
    disagreements = []
    invalid = 0
    for instance in [base, *(mutated(base, rng) for _ in range(150))]:
        full = not any(True for _ in slow.iter_errors(instance))
        invalid += not full
        if fast.is_valid(instance) != full:
            disagreements.append(instance)
    assert not disagreements, f"{schema_file.name}: {json.dumps(disagreements[0])[:600]}"
    assert invalid > 0  # the mutations did reach something the schema refuses


def test_the_cluster_schema_agrees_on_the_examples_and_their_mutations() -> None:
    import yaml

    schema = json.loads((ROOT / "schemas" / "cluster.schema.json").read_text())
    slow = Draft202012Validator(schema, registry=build_registry([schema]))
    fast = fast_validator(schema)
    assert fast is not None
    rng = random.Random(3)
    for example in sorted((ROOT / "examples").glob("*.yaml")):
        base = yaml.safe_load(example.read_text())
        for instance in [base, *(mutated(base, rng) for _ in range(100))]:
            full = not any(True for _ in slow.iter_errors(instance))
            assert fast.is_valid(instance) == full, f"{example.name}: {json.dumps(instance)[:600]}"

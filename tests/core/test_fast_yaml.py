"""`yamldoc.fast_load_plain` reads exactly what `parse_yaml` + `to_plain` read, or steps aside (None)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from toolkit.core.yamldoc import fast_load_plain, parse_yaml, to_plain

ROOT = Path(__file__).resolve().parents[2]

SAME = [
    "a: yes\nb: y\nc: on\nd: n\ne: OFF\nf: 1.5\ng: -3\nh: +4\ni: ''\nj: \"x\"\nk: [a, {b: c}]\nl: 0\nm: 1.\n",
    "n: null\no: NULL\np: True\nq: 12345678901234567890\nr: 0.0001\ns: ~\nt:\n~: nullkey\n1: int key\n",
    "x: |\n  line1\n  line2\ny: >-\n  folded\n  text\nz: 1.0e+3\nw: .inf\nv: -.Inf\n",
    "- 1\n- true\n- [nested, [deeper]]\n",
]
STEP_ASIDE = [
    "a: 1\na: 2\n",  # duplicate key: parse_yaml reports it with its line
    "a: &x 1\nb: *x\n",  # anchors and aliases
    "<<: {a: 1}\nb: 2\n",  # merge key
    "a: 010\n", "a: 0x1F\n", "a: 1_000\n",  # libyaml and ruamel construct these differently
    "when: 2020-01-01\n",  # a timestamp: ruamel makes it a date
    "x: !!binary aGVsbG8=\n", "x: !custom bar\n",  # explicit tags
    "a: [1\n",  # a syntax error: parse_yaml reports it
    "",  # empty
    "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)),  # deeper than MAX_DEPTH
]


def _equal(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@pytest.mark.parametrize("version", [(1, 1), (1, 2)])
@pytest.mark.parametrize("text", SAME)
def test_reads_like_parse_yaml(text: str, version: tuple[int, int]) -> None:
    fast = fast_load_plain(text, version=version)
    assert fast is not None
    assert _equal(fast, to_plain(parse_yaml(text, version=version)))


@pytest.mark.parametrize("version", [None, (1, 1), (1, 2)])
@pytest.mark.parametrize("text", STEP_ASIDE)
def test_steps_aside(text: str, version: tuple[int, int] | None) -> None:
    if version is None and text in ("a: 010\n", "a: 0x1F\n", "a: 1_000\n", "when: 2020-01-01\n"):
        pytest.skip("libyaml's own YAML 1.1 reads these itself")
    assert fast_load_plain(text, version=version) is None


def test_yaml_11_and_12_booleans_differ() -> None:
    assert fast_load_plain("a: yes\nb: y\n", version=(1, 1)) == {"a": True, "b": True}
    assert fast_load_plain("a: yes\nb: y\n", version=(1, 2)) == {"a": "yes", "b": "y"}


def test_sexagesimal_is_yaml_11_only() -> None:
    assert fast_load_plain("a: 1:20\n", version=(1, 1)) is None  # ruamel constructs it its own way
    assert fast_load_plain("a: 1:20\n", version=(1, 2)) == {"a": "1:20"} == to_plain(parse_yaml("a: 1:20\n"))


def test_libyaml_mode_keeps_timestamps_as_text() -> None:
    assert fast_load_plain("a: 2020-01-01\nb: yes\n") == {"a": "2020-01-01", "b": True}


def test_every_catalog_and_chart_file_reads_the_same() -> None:
    files = [ROOT / "catalog" / "catalog.yaml", *ROOT.glob("charts/*/*/Chart.yaml")]
    values = list(ROOT.glob("charts/*/*/values.yaml"))
    for path, version in [*((p, (1, 2)) for p in files), *((p, (1, 1)) for p in values)]:
        text = path.read_text()
        fast = fast_load_plain(text, version=version)
        assert fast is not None, path
        assert fast == to_plain(parse_yaml(text, version=version)), path

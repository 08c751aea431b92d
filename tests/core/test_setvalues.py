"""`--set` parsing: a table of helm's behaviour, and an oracle test against the real helm CLI."""

from __future__ import annotations

import base64
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.registry_fixtures import require_helm
from toolkit.adapters.helm import detect_version
from toolkit.core.setvalues import MAX_LIST_INDEX, parse_set, parse_set_string
from toolkit.errors import InputError

NULLS_TO_INDEX_MAX = [None] * MAX_LIST_INDEX + [1]
DEEP_30 = ".".join(["k"] * 31) + "=1"  # 30 dots: the deepest key helm accepts
DEEP_31 = ".".join(["k"] * 32) + "=1"


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"k": value}
    return value


# (expressions, values helm ends up with); each case was checked against helm 3.22.
CASES: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("a=1",), {"a": 1}),
    (("a=-1",), {"a": -1}),
    (("a=+5",), {"a": 5}),
    (("a=-007",), {"a": -7}),
    (("a=-0",), {"a": 0}),
    (("a=0",), {"a": 0}),
    (("a=00",), {"a": "00"}),
    (("a=007",), {"a": "007"}),
    (("a=1.5",), {"a": "1.5"}),
    (("a=1e3",), {"a": "1e3"}),
    (("a=0x10",), {"a": "0x10"}),
    (("a=1_000",), {"a": "1_000"}),
    (("a=9223372036854775807",), {"a": 9223372036854775807}),
    (("a=9223372036854775808",), {"a": "9223372036854775808"}),
    (("a=-9223372036854775808",), {"a": -9223372036854775808}),
    (("a=-9223372036854775809",), {"a": "-9223372036854775809"}),
    (("a=true",), {"a": True}),
    (("a=True",), {"a": True}),
    (("a=FALSE",), {"a": False}),
    (("a=falſe",), {"a": False}),  # Go's EqualFold folds the long s to "s"
    (("a=null",), {"a": None}),
    (("a=NULL",), {"a": None}),
    (("a=yes",), {"a": "yes"}),
    (("a=-",), {"a": "-"}),
    (("a=1 ",), {"a": "1 "}),
    (("a=",), {"a": ""}),
    (("a==",), {"a": "="}),
    (("a=1=2",), {"a": "1=2"}),
    ((" a = 1 ",), {" a ": " 1 "}),
    (("a=1,b=two,c.d=3",), {"a": 1, "b": "two", "c": {"d": 3}}),
    (("a=1,",), {"a": 1}),
    (("",), {}),
    (("a.b.c=1,a.b.d=2",), {"a": {"b": {"c": 1, "d": 2}}}),
    (("a.b=1", "a.c=2"), {"a": {"b": 1, "c": 2}}),
    (("a=1", "a=2"), {"a": 2}),
    (("a=1,a=2",), {"a": 2}),
    (("a.b=1", "a=x"), {"a": "x"}),
    (("a\\.b=1",), {"a.b": 1}),
    (("a\\=b=c",), {"a=b": "c"}),
    (("a=x\\,y",), {"a": "x,y"}),
    (("a=x\\\\y",), {"a": "x\\y"}),
    (("a=x\\",), {"a": "x"}),
    (("a=1\\",), {"a": 1}),
    (("a=\\{1",), {"a": "{1"}),
    (("ключ=значение",), {"ключ": "значение"}),
    (("a={1,2},b=3",), {"a": [1, 2], "b": 3}),
    (("a={ 1 , true,null}",), {"a": [" 1 ", " true", None]}),
    (("a={}",), {"a": [""]}),
    (("a={a,}",), {"a": ["a", ""]}),
    (("a[0]=x",), {"a": ["x"]}),
    (("a[2]=x",), {"a": [None, None, "x"]}),
    (("a[01]=1",), {"a": [None, 1]}),
    (("a[+1]=1",), {"a": [None, 1]}),
    (("a[0]=",), {"a": [""]}),
    (("a[0]={1,2}",), {"a": [[1, 2]]}),
    (("a[0][1]=z",), {"a": [[None, "z"]]}),
    (("a[1]=1,a[0][0]=2",), {"a": [[2], 1]}),
    (("a[0].b=1",), {"a": [{"b": 1}]}),
    (("a[0].b.c=1",), {"a": [{"b": {"c": 1}}]}),
    (("a[0].b[1]=2",), {"a": [{"b": [None, 2]}]}),
    (("a.b[0]=1",), {"a": {"b": [1]}}),
    (("a[0].b=,c=1",), {"a": [{"b": ""}], "c": 1}),
    (("a={1,2},a[0].b=1",), {"a": [{"b": 1}, 2]}),
    (("a[0]=1,a[0].b=2",), {"a": [{"b": 2}]}),
    (("a={1,2},a[5]=3",), {"a": [1, 2, None, None, None, 3]}),
    (("a[1]=x", "a[0]=y"), {"a": ["y", "x"]}),
    (("a[65536]=1",), {"a": NULLS_TO_INDEX_MAX}),
    ((DEEP_30,), _nested(31, 1)),
    # helm's quirks: these change nothing, or leave an empty list
    (("a.",), {}),
    ((".a=1",), {}),
    (("=1",), {}),
    (("a[0]",), {"a": []}),
    (("a[0].",), {"a": []}),
    (("a[0][1]",), {"a": []}),
    (("a[0].b=",), {"a": []}),
]

ERRORS: list[tuple[tuple[str, ...], str]] = [
    (("a",), "has no value"),
    (("a=1,b",), "has no value"),
    (("a,b=1",), "has no value"),
    ((",",), "has no value"),
    (("a=1,,b=2",), "has no value"),
    (("a.=1",), "no nested key"),
    (("a[x]=1",), "not an integer"),
    (("a[ 1]=1",), "not an integer"),
    (("a[]=1",), "not an integer"),
    (("a[-1]=1",), "negative"),
    (("a[0][-1]=1",), "negative"),
    (("a[65537]=1",), "larger than 65536"),
    (("a[9223372036854775808]=1",), "out of range"),
    (("a[",), "no closing ']'"),
    (("a[1",), "no closing ']'"),
    (("a[0]x=1",), "unexpected 'x'"),
    (("a={1,2",), "no closing '}'"),
    (("a={1,2}x",), "has no value"),
    (("a={1,{2}}",), "has no value"),
    (("a=\\{1,2\\}",), "has no value"),
    ((DEEP_31,), "nested more than 30"),
    (("a=1,a.b=2",), "cannot hold the nested key"),
    (("a=null,a.b=1",), "cannot hold the nested key"),
    (("a=null,a[0]=1",), "cannot be indexed"),
    (("a.b=1,a[0]=1",), "cannot be indexed"),
    (("a[0]=1,a.b=1",), "cannot hold the nested key"),
    (("a[0]=1,a[0][0]=2",), "cannot be indexed"),
    (("a=1", "a.b=2"), "cannot hold the nested key"),
]


@pytest.mark.parametrize(("expressions", "expected"), CASES, ids=[" ; ".join(c[0])[:60] for c in CASES])
def test_parse_set(expressions: tuple[str, ...], expected: dict[str, Any]) -> None:
    values = parse_set(expressions)
    assert _canonical(values) == _canonical(expected)


@pytest.mark.parametrize(("expressions", "message"), ERRORS, ids=[" ; ".join(c[0])[:60] for c in ERRORS])
def test_parse_set_rejects(expressions: tuple[str, ...], message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_set(expressions)
    assert message in caught.value.message
    assert repr(expressions[-1]) in caught.value.message  # names the offending expression
    assert caught.value.hint


def test_parse_set_applies_onto_a_copy_of_base() -> None:
    base = {"image": {"tag": "1.0", "pullPolicy": "IfNotPresent"}, "ports": [80, 443], "keep": True}
    values = parse_set(["image.tag=2.0,ports[1]=8443,extra=null"], base)
    assert values == {"image": {"tag": "2.0", "pullPolicy": "IfNotPresent"}, "ports": [80, 8443], "keep": True,
                      "extra": None}
    assert base == {"image": {"tag": "1.0", "pullPolicy": "IfNotPresent"}, "ports": [80, 443], "keep": True}


def test_parse_set_base_scalar_cannot_be_nested_into() -> None:
    with pytest.raises(InputError, match="cannot hold the nested key"):
        parse_set(["replicas.min=1"], {"replicas": 3})


def test_parse_set_string_keeps_every_value_a_string() -> None:
    assert parse_set_string(["a=1,b=true,c=null,d={1,x},e="]) == {"a": "1", "b": "true", "c": "null",
                                                                   "d": ["1", "x"], "e": ""}
    with pytest.raises(InputError, match="--set-string 'a'"):
        parse_set_string(["a"])


def test_parse_set_wants_a_sequence_not_one_string() -> None:
    with pytest.raises(TypeError):
        parse_set("a=1")
    with pytest.raises(ValueError, match="3 or 4"):
        parse_set(["a=1"], helm_major=2)


# Helm 4 ends the parse where helm 3 fails: at a list index cut off by the end of the text (helm 4
# wraps the end-of-text error with %w and its parser reads that as a normal end). Checked against 4.3.2.
HELM_4_CASES: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("a[",), {}),
    (("a[1",), {}),
    (("a[x",), {}),
    (("b.a[1",), {}),
    (("a[0][",), {"a": []}),
    (("a[0].b[",), {"a": []}),
    (("a[0]=1,a[1",), {"a": [1]}),
    (("x=1,a[",), {"x": 1}),
    (("a[", "b=2"), {"b": 2}),
]


@pytest.mark.parametrize(("expressions", "expected"), HELM_4_CASES, ids=[" ; ".join(c[0]) for c in HELM_4_CASES])
def test_helm_4_drops_an_unfinished_index_that_helm_3_rejects(expressions: tuple[str, ...],
                                                              expected: dict[str, Any]) -> None:
    assert _canonical(parse_set(expressions, helm_major=4)) == _canonical(expected)
    with pytest.raises(InputError, match="no closing ']'"):
        parse_set(expressions, helm_major=3)


@pytest.mark.parametrize(("expressions", "expected"), CASES, ids=[" ; ".join(c[0])[:60] for c in CASES])
def test_helm_4_reads_everything_else_like_helm_3(expressions: tuple[str, ...], expected: dict[str, Any]) -> None:
    assert _canonical(parse_set(expressions, helm_major=4)) == _canonical(expected)


def _canonical(values: Any) -> str:
    """Type-exact comparison: True and 1 (or None and a missing key) must not compare equal."""
    return json.dumps(values, sort_keys=True)


# --- oracle: the real helm renders `.Values` for each expression list ------------------------------

ORACLE: list[tuple[str, ...]] = [*(c[0] for c in CASES), *(c[0] for c in ERRORS), ("a[0]=1", "a[0][0]=2"),
                                 *(c[0] for c in HELM_4_CASES if c[0] not in [e[0] for e in ERRORS])]


def _render_all(helm: Path, chart: Path, env: dict[str, str]) -> dict[tuple[str, ...], subprocess.CompletedProcess[str]]:
    def render(expressions: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        argv = [str(helm), "template", "x", str(chart)]
        for expression in expressions:
            argv += ["--set", expression]
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)  # noqa: S603

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(ORACLE, pool.map(render, ORACLE), strict=True))


@pytest.fixture(scope="module")
def helm_renders(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], subprocess.CompletedProcess[str]]:
    """`helm template` of a chart that prints its `.Values` as base64 JSON, once per ORACLE entry."""
    helm = require_helm()
    root = tmp_path_factory.mktemp("setvalues-oracle")
    chart = root / "show"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: show\nversion: 0.1.0\n")
    (chart / "templates" / "values.yaml").write_text("values: {{ .Values | toJson | b64enc }}\n")
    env = {"HELM_CACHE_HOME": str(root / "cache"), "HELM_CONFIG_HOME": str(root / "config"),
           "HELM_DATA_HOME": str(root / "data")}
    return _render_all(helm, chart, env)


@pytest.fixture(scope="module")
def oracle_major() -> int:
    """The major version of the helm under test: our parser is asked to read `--set` as that helm does."""
    return detect_version(str(require_helm())).major


@pytest.mark.helm
@pytest.mark.parametrize("expressions", ORACLE, ids=[" ; ".join(e)[:60] for e in ORACLE])
def test_parse_set_agrees_with_helm(
    expressions: tuple[str, ...], helm_renders: dict[tuple[str, ...], subprocess.CompletedProcess[str]],
    oracle_major: int,
) -> None:
    done = helm_renders[expressions]
    try:
        ours: dict[str, Any] | None = parse_set(expressions, helm_major=oracle_major)
    except InputError:
        ours = None
    if done.returncode != 0:
        assert "failed parsing --set data" in done.stderr, done.stderr
        assert ours is None, f"helm rejects {expressions!r} ({done.stderr.strip()}), we returned {ours!r}"
        return
    line = next(line for line in done.stdout.splitlines() if line.startswith("values: "))
    helms = json.loads(base64.b64decode(line.removeprefix("values: ")))
    assert ours is not None, f"we reject {expressions!r}, helm renders {helms!r}"
    assert _canonical(ours) == _canonical(helms)

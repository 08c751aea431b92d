"""Every parser and entry point under generated input: each ends in findings or a clean input error
(exit 3), never an unexpected exception, and within bounded time. The functions are the ones the CLI
calls; the inputs are built from the shapes real files have (Cluster files from the examples, values,
`--set` strings, version ranges, catalog files, chart archives, OCI manifests, kubeconfigs), mutated."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.support.hostile_registry import tar_archive
from toolkit.errors import EXIT_INPUT, ToolkitError, exit_code_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "examples").glob("*.yaml"))]
BUDGET_SECONDS = 5.0

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
                    st.sampled_from(["", "~", "null", "yes", "no", "on", "0x1F", "1e400", "2001-12-14", "1.30.2",
                                     "10.0.0.0/16", "-", "*", "&a", "*a", "!!binary x", "\ufeff", "\x00", "a" * 5000]))
plain = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                      st.dictionaries(st.text(max_size=12), inner, max_size=6)),
                     max_leaves=40)


def clean(call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `call`; a ToolkitError must be an input error (exit 3); anything else fails the property."""
    started = time.monotonic()
    try:
        return call(*args, **kwargs)
    except ToolkitError as exc:
        assert exit_code_for(exc) == EXIT_INPUT, f"{type(exc).__name__} (exit {exit_code_for(exc)}): {exc}"
        return exc
    finally:
        assert time.monotonic() - started < BUDGET_SECONDS


def mutate(document: Any, data: st.DataObject) -> Any:
    """`document` with a few values replaced by generated ones, anywhere in its tree."""
    def paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        out = [path]
        if isinstance(value, dict):
            out += [p for k, v in value.items() for p in paths(v, (*path, k))]
        elif isinstance(value, list):
            out += [p for i, v in enumerate(value) for p in paths(v, (*path, i))]
        return out

    document = json.loads(json.dumps(document))
    for _ in range(data.draw(st.integers(1, 4))):
        path = data.draw(st.sampled_from(paths(document)))
        if not path:
            continue
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = data.draw(plain)
    return document


def as_text(document: Any, data: st.DataObject) -> str:
    form = data.draw(st.sampled_from(["yaml", "json", "flow", "bom"]))
    if form == "json":
        return json.dumps(document, default=str)
    text = yaml.safe_dump(document, default_flow_style=form == "flow", allow_unicode=True)
    return "\ufeff" + text if form == "bom" else text


def plan_text(text: str) -> None:
    """What `tke-catalog plan FILE` does without a cluster: parse, then plan against the catalog."""
    from toolkit.actions.validate import parse_cluster_text
    from toolkit.adapters.chart_dirs import CatalogChartSource
    from toolkit.adapters.project import load_catalog
    from toolkit.core.plan import resolve_plan

    parsed = parse_cluster_text(text, "fuzz.yaml", ROOT)
    if parsed.cluster is not None and not any(f.severity.value == "error" for f in parsed.findings):
        resolve_plan(parsed.cluster, load_catalog(ROOT), CatalogChartSource(ROOT))


@given(st.data())
def test_mutated_cluster_files_plan_or_give_findings(data: st.DataObject) -> None:
    document = mutate(data.draw(st.sampled_from(EXAMPLES)), data)
    clean(plan_text, as_text(document, data))


@given(st.text(max_size=400))
def test_any_text_as_a_cluster_file(text: str) -> None:
    clean(plan_text, text)


@given(st.data())
def test_hostile_yaml_constructs_in_cluster_files(data: st.DataObject) -> None:
    base = yaml.safe_dump(data.draw(st.sampled_from(EXAMPLES)))
    extra = data.draw(st.sampled_from([
        "\nx: &a [*a]\n", "\nspec: {version: 1}\nspec: {version: 2}\n", "\n" + "a: [" * 300 + "]" * 300 + "\n",
        "\nbomb: &b [&c [x, x], *c, *c]\n", "\nk: !!python/object:os.system ls\n", "\n? [a, b]\n: c\n",
        "\nk: " + "x" * 2_000_000 + "\n", "\n<<: {a: 1}\n", "\n\t- tab\n", "\n%YAML 1.2\n---\n", "\n---\nsecond: doc\n"]))
    clean(plan_text, base + extra)


@given(st.lists(st.text(max_size=60), max_size=5), st.sampled_from([3, 4]))
def test_set_values_parse_or_refuse(expressions: list[str], helm_major: int) -> None:
    from toolkit.core.setvalues import parse_set

    clean(parse_set, expressions, helm_major=helm_major)


@given(st.one_of(st.text(max_size=60), st.from_regex(r"[~^<>=!|*x., v0-9a-z+-]{0,40}", fullmatch=True)))
def test_version_ranges_parse_or_refuse(text: str) -> None:
    from toolkit.core.semver_range import parse_range

    clean(parse_range, text)


@given(st.data())
def test_catalog_files_parse_or_refuse(data: st.DataObject) -> None:
    from toolkit.adapters.project import load_schema
    from toolkit.core.catalog import parse_catalog

    base = yaml.safe_load((ROOT / "catalog" / "catalog.yaml").read_text())
    clean(parse_catalog, mutate(base, data), "catalog.yaml", schema=load_schema(ROOT, "catalog.schema.json"))


entry_names = st.one_of(st.sampled_from(["c/Chart.yaml", "c/values.yaml", "c/templates/a.yaml", "../c/x", "/etc/x",
                                         "c/../../x", "c\\x", "C:/x", "c/./x", "d/x", "c", "c/", "./c/x"]),
                        st.text(max_size=30))


@given(st.lists(st.tuples(entry_names, st.sampled_from(["file", "file", "file", "symlink", "hardlink", "dir",
                                                        "device", "fifo"]),
                          st.binary(max_size=200)), max_size=8))
def test_chart_archives_read_safely_or_refuse(entries: list[tuple[str, str, bytes]]) -> None:
    from toolkit.core.archive_reader import read_chart_archive
    from toolkit.errors import RegistryError

    try:
        result = read_chart_archive(tar_archive(entries), "fuzz.tgz")
    except RegistryError:
        return  # refused: a registry's archive is not input we were given, but a clean refusal all the same
    except ToolkitError as exc:
        assert exit_code_for(exc) == EXIT_INPUT
        return
    _, files = result
    for name in files:  # whatever was accepted stays inside the chart folder
        assert not name.startswith(("/", "..")) and "/../" not in f"/{name}/" and "\\" not in name


@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_a_chart_archive(data: bytes) -> None:
    from toolkit.core.archive_reader import read_chart_archive
    from toolkit.errors import RegistryError

    try:
        read_chart_archive(data, "fuzz.tgz")
    except (RegistryError, ToolkitError):
        pass


@given(st.one_of(plain, st.builds(lambda d: {"schemaVersion": 2, "config": d, "layers": [d]}, plain)))
def test_oci_manifests_parse_or_refuse(document: Any) -> None:
    from toolkit.core.oci_artifact import parse_chart_manifest
    from toolkit.errors import RegistryError

    try:
        parse_chart_manifest(json.dumps(document, default=str).encode(), "fuzz")
    except (RegistryError, ToolkitError):
        pass


KUBECONFIG = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
              "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443",
                                                     "certificate-authority-data": "bm90IGEgY2VydA=="}}],
              "users": [{"name": "u", "user": {"token": "t0k"}}],
              "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {str(k) for k in value} | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@given(st.data())
def test_kubeconfigs_load_or_refuse(data: st.DataObject) -> None:
    import tempfile

    from hypothesis import assume

    from toolkit.adapters.kube.client import ClusterAccess, _configuration
    from toolkit.errors import EXIT_USAGE

    document = mutate(KUBECONFIG, data)
    assume(not _keys(document) & {"exec", "auth-provider"})  # a plugin would run a command: not fuzzed here
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kubeconfig"
        path.write_text(as_text(document, data))
        try:
            _configuration(ClusterAccess(kubeconfig=str(path)))
        except ToolkitError as exc:
            assert exit_code_for(exc) in (EXIT_INPUT, EXIT_USAGE), f"{type(exc).__name__}: {exc}"


@given(st.one_of(st.text(max_size=300), st.builds(lambda d: yaml.safe_dump(d), plain)))
def test_user_config_files_parse_or_refuse(text: str) -> None:
    from toolkit.core.user_config import parse_user_config

    clean(parse_user_config, text, "config.yaml")

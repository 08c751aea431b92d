"""Helm version ranges: tables of Masterminds' semantics, and an oracle test against `helm pull`."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import semver

from tests.support.registry_fixtures import require_helm
from toolkit.core.semver_range import (
    VersionRange,
    best_match,
    is_exact,
    parse_range,
    parse_version,
)
from toolkit.errors import InputError

# The versions of the oracle's chart repository (no two with the same precedence: helm's order
# between, say, 1.0.0+a and 1.0.0+b is not defined).
VERSIONS = [
    "0.0.0", "0.0.3", "0.1.0", "0.2.3", "0.2.9", "0.3.0", "1.0.0", "1.2.0", "1.2.3", "1.2.9",
    "1.3.0-beta.1", "1.3.0", "1.10.0", "2.0.0-alpha.1", "2.0.0-rc.1", "2.0.0", "2.1.0+meta",
    "3.0.0-rc.1", "v4.0.0",
]

# (range, the version helm picks from VERSIONS or None); every row also runs through helm below.
PICKS: list[tuple[str, str | None]] = [
    ("", "v4.0.0"),  # helm reads an empty range as `*`
    ("*", "v4.0.0"),
    ("x", "v4.0.0"),
    ("1.2.3", "1.2.3"),
    ("v4.0.0", "v4.0.0"),
    ("2.1.0+meta", "2.1.0+meta"),  # the exact string wins first
    ("2.1.0", "2.1.0+meta"),  # build metadata is ignored when comparing
    ("1.2.3+other", "1.2.3"),
    ("2.0.0-rc.1", "2.0.0-rc.1"),
    ("=1.2.3", "1.2.3"),
    ("!=v4.0.0", "2.1.0+meta"),
    (">1.2 <2", "1.10.0"),  # >1.2 means >=1.3.0
    (">1.2.3 <1.3", "1.2.9"),
    ("<1.2.3", "1.2.0"),
    (">=1.2.3 <1.10.0", "1.3.0"),
    ("<=1.2", "1.2.9"),  # <=1.2 means <1.3.0
    ("=<1.2.3", "1.2.3"),
    ("=>2.0.0, =<2.0.0", "2.0.0"),
    (">1 <4", "2.1.0+meta"),
    ("~1.2.3", "1.2.9"),
    ("~1", "1.10.0"),
    ("~0", "0.3.0"),
    ("~>1.2", "1.2.9"),
    ("~0.0.0", "v4.0.0"),
    ("^1.2.3", "1.10.0"),
    ("^0.2.3", "0.2.9"),
    ("^0.0.3", "0.0.3"),
    ("^0.0", "0.0.3"),
    ("^0", "0.3.0"),
    ("^*", "0.0.0"),  # Masterminds' code makes ^* mean =0.0.0 (its comment says "any")
    ("<=*", "0.0.3"),  # and <=* mean <0.1.0
    ("!=*", "v4.0.0"),
    ("1.x", "1.10.0"),
    ("v1.x", "1.10.0"),
    ("1.2.*", "1.2.9"),
    ("1", "1.10.0"),
    ("1.2", "1.2.9"),
    ("1.x.|", "1.10.0"),  # parts after a wildcard are never read
    ("1.2 - 1.3", "1.3.0"),  # the upper end of a hyphen range is a wildcard: <1.4.0
    ("0.1.0 - 1.2.x", "1.2.9"),
    ("2.0.0-alpha.1 - 2.0.0-beta", "2.0.0-alpha.1"),
    (">=1.0.0 <1.3.0 || >=2.0.0 <3", "2.1.0+meta"),
    (">=1.0.0,<1.3.0", "1.2.9"),
    (">= 1.0.0, < 1.3.0", "1.2.9"),
    (">=1.0.0 , <1.3.0", "1.2.9"),
    (">=2.0.0-0 <2.0.0", "2.0.0-rc.1"),
    (">=1.0.0-0 <2.0.0", "2.0.0-rc.1"),  # a prerelease comparator admits prereleases of any version
    ("~2.0.0-0", "2.0.0"),
    ("^3.0.0-0", "3.0.0-rc.1"),
    (">=1.3.0-0 <1.3.0", "1.3.0-beta.1"),
    ("1.2.3 || 1.3.0-beta.1", "1.3.0-beta.1"),
    ("!=1.2.x-beta <1.3", "1.3.0-beta.1"),
    (">=1.2.3 !=1.2.9 <1.3.0", "1.2.3"),
    (">1.2.9 <1.3.0", None),  # 1.3.0-beta.1 fits the numbers, but no comparator has a prerelease
    (">5", None),
    ("=1.2.4", None),
    ("<0.0.0", None),
]

INVALID = [
    " ",
    ">=1.0.0<2",
    "1.0.0 ||",
    "|| 1.0.0",
    "1.2.3 -",
    "1 - 2 - 3",
    ">1.0 - 2.0",
    "~>",
    ">= ",
    "1.2.3.4",
    "1.2.3-01",
    "1.2.3-",
    "a.b.c",
    "1x",
    "99999999999999999999",
    "==1.0.0",
    "!1.0.0",
    "1.0.0 | 2.0.0",
    "> =1.0.0",
    "1.0.0 ,, 2.0.0",
    "1.0.0" + "0" * 520,
    " || ".join(["1.0.0"] * 33),
]

ALLOWS: list[tuple[str, str, bool]] = [
    ("1.2.3", "1.2.3+build", True),
    ("1.2.3", "v1.2.3", True),
    ("1.2.3", "1.2", False),
    ("1.2", "1.2", True),
    ("1.2", "01.2.7", True),
    ("<2", "2.0.0-alpha", False),
    ("<2.0.0-0", "2.0.0-alpha", False),  # 2.0.0-alpha > 2.0.0-0
    ("<2.0.0-z", "2.0.0-alpha", True),
    (">=1.0.0-0 <3", "2.5.0-rc.1", True),
    (">=1.0.0 <3", "2.5.0-rc.1", False),
    ("<=1", "1.99.99", True),
    ("<=1", "2.0.0-alpha", False),
    (">1", "1.99.0", False),
    (">1.2", "1.2.99", False),
    (">1.2.0", "1.2.1", True),
    ("~1.2.3-beta.2", "1.2.3-beta.10", True),
    ("~1.2.3-beta.2", "1.2.3-beta.1", False),
    ("~1.2.3-beta.2", "1.2.3-alpha", False),
    ("^0.0.3", "0.0.3-rc.1", False),
    ("^0.0.3", "0.0.4", False),
    ("^0.0", "0.0.99", True),
    ("^0.0", "0.1.0", False),
    ("^0", "0.99.0", True),
    ("^0", "1.0.0", False),
    ("^1.x", "1.0.0", True),
    ("^1.x", "2.0.0", False),
    ("!=1.x", "1.5.0", False),
    ("!=1.x", "2.0.0", True),
    ("!=1.2.x", "1.2.7", False),
    ("!=1.2.x", "1.3.0", True),
    ("*-rc.1", "0.0.0-rc.1", True),
    ("*-rc.1", "7.0.0-rc.2", True),  # `*` with a prerelease is `>=0.0.0-rc.1` that also admits prereleases
    ("", "1.0.0-rc.1", False),
    ("x || >=1.0.0-0", "1.0.0-rc.1", True),
    ("1.0.0,2.0.0", "1.0.0", False),  # a comma means AND
]

EXACT: list[tuple[str, bool]] = [
    ("1.2.3", True),
    ("v1.2.3", True),
    ("1.2.3-rc.1+build.5", True),
    ("1.2", False),
    ("1.2.x", False),
    ("=1.2.3", False),
    ("~1.2.3", False),
    (" 1.2.3", False),
    ("1.2.3 || 1.2.4", False),
    ("1.2.3-01", False),
    ("", False),
]


@pytest.mark.parametrize(("range_text", "expected"), PICKS, ids=[repr(p[0]) for p in PICKS])
def test_best_match(range_text: str, expected: str | None) -> None:
    assert best_match(range_text, VERSIONS) == expected


@pytest.mark.parametrize(("range_text", "version", "expected"), ALLOWS, ids=[f"{a[0]!r} {a[1]}" for a in ALLOWS])
def test_allows(range_text: str, version: str, expected: bool) -> None:
    assert parse_range(range_text).allows(version) is expected


@pytest.mark.parametrize("range_text", INVALID, ids=[repr(i)[:40] for i in INVALID])
def test_parse_range_rejects(range_text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_range(range_text)
    assert repr(range_text)[:40] in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(("text", "expected"), EXACT, ids=[repr(e[0]) for e in EXACT])
def test_is_exact(text: str, expected: bool) -> None:
    assert is_exact(text) is expected


def test_best_match_skips_versions_helm_cannot_read() -> None:
    assert best_match(">=1", ["1.0.0", "latest", "2.0.0-01", "1.5", "v1.7.0", ""]) == "v1.7.0"


def test_best_match_checks_the_range_before_the_exact_string() -> None:
    with pytest.raises(InputError):
        best_match("1.0.0 || ", ["1.0.0 || "])


def test_best_match_with_no_versions() -> None:
    assert best_match("*", []) is None


def test_parse_version_coerces_like_helm() -> None:
    assert parse_version("v1.2") == semver.Version(1, 2, 0)
    assert parse_version("01.002.3-rc.1+b") == semver.Version(1, 2, 3, "rc.1", "b")
    for bad in ("", "1.2.3.4", "1.2.3-01", "x", " 1.2.3", "1.2.3\n", "1" * 257):
        with pytest.raises(InputError):
            parse_version(bad)


def test_allows_rejects_an_unreadable_version() -> None:
    with pytest.raises(InputError, match="'latest'"):
        parse_range("*").allows("latest")


def test_version_range_keeps_its_text() -> None:
    version_range = parse_range("~1.2 || ^2")
    assert isinstance(version_range, VersionRange)
    assert str(version_range) == "~1.2 || ^2"


# --- oracle: `helm pull --version RANGE` against a local chart repository ---------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def helm_pulls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str | None, str]]]:
    """What `helm pull` does with each range of PICKS and INVALID: the version it picked (None when it
    failed) and its stderr."""
    helm = require_helm()
    root = tmp_path_factory.mktemp("semver-oracle")
    env = {"HELM_CACHE_HOME": str(root / "cache"), "HELM_CONFIG_HOME": str(root / "config"),
           "HELM_DATA_HOME": str(root / "data")}
    chart, repo = root / "demo", root / "repo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.0.1\n")
    repo.mkdir()

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(helm), *argv], capture_output=True, text=True, env=env, timeout=120, check=False)  # noqa: S603

    with ThreadPoolExecutor(max_workers=8) as pool:
        for done in pool.map(lambda v: run("package", str(chart), "--version", v, "--destination", str(repo)), VERSIONS):
            assert done.returncode == 0, done.stderr
    done = run("repo", "index", str(repo))
    assert done.returncode == 0, done.stderr

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(repo)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    def pull(item: tuple[int, str]) -> tuple[str | None, str]:
        number, range_text = item
        destination = root / "pulled" / str(number)
        destination.mkdir(parents=True)
        done = run("pull", "demo", "--repo", url, "--version", range_text, "--destination", str(destination))
        if done.returncode != 0:
            return None, done.stderr
        (archive,) = destination.iterdir()
        return archive.name.removeprefix("demo-").removesuffix(".tgz"), done.stderr

    ranges = [p[0] for p in PICKS] + INVALID
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            yield dict(zip(ranges, pool.map(pull, enumerate(ranges)), strict=True))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.helm
@pytest.mark.parametrize("range_text", [p[0] for p in PICKS], ids=[repr(p[0]) for p in PICKS])
def test_best_match_agrees_with_helm_pull(range_text: str, helm_pulls: dict[str, tuple[str | None, str]]) -> None:
    picked, stderr = helm_pulls[range_text]
    assert best_match(range_text, VERSIONS) == picked, stderr
    if picked is None:
        assert "not found in" in stderr


@pytest.mark.helm
@pytest.mark.parametrize("range_text", INVALID, ids=[repr(i)[:40] for i in INVALID])
def test_invalid_ranges_fail_in_helm_pull_too(range_text: str, helm_pulls: dict[str, tuple[str | None, str]]) -> None:
    picked, stderr = helm_pulls[range_text]
    assert picked is None
    assert "not found in" in stderr  # helm pull reports a malformed range as "version not found"
    with pytest.raises(InputError):
        best_match(range_text, VERSIONS)


VALIDITY = [p[0] for p in PICKS if p[0]] + INVALID  # helm's dependency resolver rejects "" itself


@pytest.fixture(scope="module")
def helm_rejects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bool]:
    """Whether helm's dependency resolver calls each range of VALIDITY malformed: `helm dependency
    update` of a chart that needs a `file://` sibling chart at that range (no network involved)."""
    helm = require_helm()
    root = tmp_path_factory.mktemp("semver-validity")
    env = {"HELM_CACHE_HOME": str(root / "cache"), "HELM_CONFIG_HOME": str(root / "config"),
           "HELM_DATA_HOME": str(root / "data")}
    (root / "demo").mkdir()
    (root / "demo" / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 1.2.3\n")

    def rejected(item: tuple[int, str]) -> bool:
        number, range_text = item
        parent = root / f"parent-{number}"
        parent.mkdir()
        dependency = {"name": "demo", "version": range_text, "repository": "file://../demo"}
        chart_yaml = {"apiVersion": "v2", "name": "parent", "version": "0.1.0", "dependencies": [dependency]}
        (parent / "Chart.yaml").write_text(json.dumps(chart_yaml))  # JSON is YAML, and quotes every range
        done = subprocess.run([str(helm), "dependency", "update", str(parent)], capture_output=True,  # noqa: S603
                              text=True, env=env, timeout=120, check=False)
        return "invalid version/constraint format" in done.stderr

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(VALIDITY, pool.map(rejected, enumerate(VALIDITY)), strict=True))


@pytest.mark.helm
@pytest.mark.parametrize("range_text", VALIDITY, ids=[repr(v)[:40] for v in VALIDITY])
def test_range_validity_agrees_with_helm(range_text: str, helm_rejects: dict[str, bool]) -> None:
    try:
        parse_range(range_text)
    except InputError:
        ours = True
    else:
        ours = False
    assert ours is helm_rejects[range_text]

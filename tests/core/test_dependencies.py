"""Chart.yaml dependencies, Chart.lock and repository indexes as data (helm parity is in
tests/publish/test_dependencies.py); and `deps update` over a recording fake fetcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.actions.dependencies import build_dependencies, update_dependencies
from toolkit.core.dependencies import (
    Locked,
    lock_digest,
    parse_lock,
    parse_repo_index,
    pick_version,
    render_lock,
    requirements,
)
from toolkit.errors import InputError, RegistryError


def _reqs(deps: str) -> list:
    return requirements(f"apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n{deps}".encode(), "Chart.yaml")


@pytest.mark.parametrize(("deps", "message"), [
    ("  - {name: a, version: 1.0.0, repository: '@stable'}\n", "helm repo add"),
    ("  - {name: a, version: 1.0.0, repository: 'alias:stable'}\n", "helm repo add"),
    ("  - {name: a, version: 1.0.0, repository: 's3://x'}\n", "unknown repository scheme"),
    ("  - {name: a, version: 'abc', repository: 'oci://r/c'}\n", "not valid"),
    ("  - {name: a, repository: 'oci://r/c'}\n", "has no version"),
    ("  - {name: a, version: 1.0.0, repository: 'oci://r/c'}\n  - {name: a, version: 1.0.0, repository: ''}\n",
     "listed twice"),
])
def test_requirements_refuse_what_we_cannot_resolve(deps: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        _reqs(deps)


def test_pick_version_takes_the_highest_match_and_names_what_exists() -> None:
    (req,) = _reqs("  - {name: a, version: ^1.2.0, repository: 'oci://r/c'}\n")
    assert pick_version(req, ["1.1.0", "1.2.3", "1.10.0", "2.0.0"], "oci://r/c") == "1.10.0"
    with pytest.raises(InputError, match="there: 0.9.0, 2.0.0"):
        pick_version(req, ["2.0.0", "0.9.0"], "oci://r/c")


def test_the_lock_renders_and_reads_back_with_its_digest() -> None:
    reqs = _reqs("  - {name: a, version: ^1.2.0, repository: 'https://x/charts', import-values: [data]}\n"
                 "  - {name: b, version: 0.1.0, repository: ''}\n")
    locked = [Locked("a", "1.2.3", "https://x/charts"), Locked("b", "0.1.0", "")]
    digest = lock_digest(reqs, locked)
    text = render_lock(locked, digest, "2026-12-02T00:00:00Z")
    assert parse_lock(text, "Chart.lock") == (digest, locked)
    assert 'repository: ""' in text and text.startswith("dependencies:\n- name: a\n")
    assert lock_digest(reqs, [Locked("a", "1.2.4", "https://x/charts"), locked[1]]) != digest


def test_the_index_makes_relative_urls_absolute_and_skips_entries_without_one() -> None:
    index = parse_repo_index("apiVersion: v1\nentries:\n  a:\n  - {version: 1.0.0, urls: [a-1.0.0.tgz], digest: ab}\n"
                             "  - {version: 2.0.0, urls: []}\n  - {version: 3.0.0, urls: ['https://cdn/a.tgz']}\n",
                             "https://x/charts")
    assert [(e.version, e.url) for e in index["a"]] == [("1.0.0", "https://x/charts/a-1.0.0.tgz"),
                                                         ("3.0.0", "https://cdn/a.tgz")]


class RecordingFetcher:
    """Serves a fixed OCI repository and records every call."""

    def __init__(self, versions: dict[str, bytes], fail: bool = False) -> None:
        self.versions, self.fail, self.calls = versions, fail, []

    def oci_versions(self, repository: str, name: str) -> list[str]:
        self.calls.append(("tags", repository, name))
        return list(self.versions)

    def oci_archive(self, repository: str, name: str, version: str) -> bytes:
        self.calls.append(("fetch", name, version))
        if self.fail:
            raise RegistryError("registry down", status=503)
        return self.versions[version]

    def http_get(self, url: str) -> bytes:
        raise AssertionError("no HTTP here")


def _app(tmp_path: Path, version: str = "~1.0") -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
                                    f"  - {{name: a, version: '{version}', repository: 'oci://r/c'}}\n")
    return app


def _no_folders(_: Path) -> tuple[str, bytes]:
    raise AssertionError("no file:// here")


def test_update_writes_the_archive_and_the_lock_and_build_follows_the_lock(tmp_path: Path) -> None:
    app = _app(tmp_path)
    fetcher = RecordingFetcher({"1.0.0": b"one", "1.0.7": b"seven", "1.1.0": b"eleven"})
    result = update_dependencies(app, fetcher, build_folder=_no_folders, epoch=0)
    assert (app / "charts" / "a-1.0.7.tgz").read_bytes() == b"seven" and result.lock_written
    lock = (app / "Chart.lock").read_text()
    fetcher.versions["1.0.9"] = b"nine"
    again = build_dependencies(app, fetcher, build_folder=_no_folders, epoch=0)
    assert ("tags", "oci://r/c", "a") not in fetcher.calls[2:]  # build asks no tags: the lock says 1.0.7
    assert not again.lock_written and (app / "Chart.lock").read_text() == lock


def test_a_failed_fetch_writes_nothing(tmp_path: Path) -> None:
    app = _app(tmp_path)
    with pytest.raises(RegistryError):
        update_dependencies(app, RecordingFetcher({"1.0.0": b"one"}, fail=True), build_folder=_no_folders, epoch=0)
    assert sorted(p.name for p in app.iterdir()) == ["Chart.yaml"]

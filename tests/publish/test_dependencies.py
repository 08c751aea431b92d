"""`deps update|build` against real counterparts: a `file://` folder, the local OCI registry, and a classic
HTTP repository served on 127.0.0.1 whose index.yaml `helm repo index` wrote. helm is the oracle: the
Chart.lock we write carries the digest `helm dependency update` computes (and `helm dependency build`
accepts it), the archives we fetch are the bytes helm pulls, and the built chart renders as helm's."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.publish.conftest import EPOCH, Helm, cli_env, cli_registry_args, client_for
from tests.support.registry import RegistryServer
from toolkit.actions.build import build_charts
from toolkit.actions.publish import publish
from toolkit.cli import cli
from toolkit.core.dependencies import parse_lock
from toolkit.core.oci_reference import parse_oci_reference
from toolkit.errors import EXIT_INPUT, EXIT_OPERATIONAL

pytestmark = [pytest.mark.helm]

TEMPLATE = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Chart.Name }}-{{ .Chart.Version }}}\n"
            "data: {greeting: {{ .Values.greeting | quote }}}\n")


def _chart(folder: Path, name: str, version: str = "0.1.0", dependencies: str = "") -> Path:
    (folder / "templates").mkdir(parents=True, exist_ok=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n"
                                       + (f"dependencies:\n{dependencies}" if dependencies else ""))
    (folder / "values.yaml").write_text(f"greeting: hello from {name}\n")
    (folder / "templates" / "cm.yaml").write_text(TEMPLATE)
    return folder


def _deps(verb: str, chart: Path, *args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli, ["deps", verb, str(chart), *args], env=env or {"SOURCE_DATE_EPOCH": str(EPOCH)})


def _lock(folder: Path) -> tuple[str, list[object]]:
    digest, entries = parse_lock((folder / "Chart.lock").read_text(), "Chart.lock")
    return digest, list(entries)


def _state(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _rendered(helm: Helm, archive: Path) -> str:
    return helm.run("template", "r", str(archive)).stdout


# --- file:// --------------------------------------------------------------------------------------------

def test_a_file_dependency_is_locked_as_helm_locks_it_and_renders_as_helms(tmp_path: Path, helm: Helm) -> None:
    deps = "  - {name: sub, version: '~0.1.0', repository: 'file://../sub', condition: sub.enabled}\n"
    ours = _chart(tmp_path / "ours" / "app", "app", dependencies=deps)
    _chart(tmp_path / "ours" / "sub", "sub", "0.1.2")
    shutil.copytree(tmp_path / "ours", tmp_path / "helms")
    helms = tmp_path / "helms" / "app"

    result = _deps("update", ours)
    assert result.exit_code == 0, result.output
    assert "sub 0.1.2 (file://../sub) -> charts/sub-0.1.2.tgz" in result.output
    helm.run("dependency", "update", str(helms))
    assert _lock(ours) == _lock(helms)  # the same digest over Chart.yaml's and the locked dependencies
    assert sorted(p.name for p in (ours / "charts").iterdir()) == ["sub-0.1.2.tgz"]

    helm.run("dependency", "build", str(ours))  # helm takes our Chart.lock as in sync
    (built,) = build_charts([ours], epoch=EPOCH)
    (tmp_path / "ours.tgz").write_bytes(built.archive)
    helm.run("package", str(helms), "--destination", str(tmp_path / "pkg"))
    assert _rendered(helm, tmp_path / "ours.tgz") == _rendered(helm, tmp_path / "pkg" / "app-0.1.0.tgz")
    assert "sub-0.1.2" in _rendered(helm, tmp_path / "ours.tgz")


def test_a_lock_out_of_sync_with_chart_yaml_is_refused_as_helm_refuses_it(tmp_path: Path, helm: Helm) -> None:
    app = _chart(tmp_path / "app", "app", dependencies="  - {name: sub, version: '0.1.0', repository: 'file://../sub'}\n")
    _chart(tmp_path / "sub", "sub")
    assert _deps("update", app).exit_code == 0
    text = (app / "Chart.yaml").read_text().replace("'0.1.0'", "'>=0.1.0'")
    (app / "Chart.yaml").write_text(text)
    before = _state(app)
    result = _deps("build", app)
    assert result.exit_code == EXIT_INPUT, result.output
    assert "out of sync" in result.output and "deps update" in result.output
    assert _state(app) == before
    refused = subprocess.run(  # noqa: S603
        [str(helm.exe), "dependency", "build", str(app)], env=helm.env(), capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "out of sync" in refused.stderr


def test_a_dependency_without_a_version_or_a_matching_one_is_refused_with_nothing_written(tmp_path: Path) -> None:
    app = _chart(tmp_path / "app", "app", dependencies="  - {name: sub, version: '^2.0.0', repository: 'file://../sub'}\n")
    _chart(tmp_path / "sub", "sub")
    result = _deps("update", app)
    assert result.exit_code == EXIT_INPUT and "no version matches" in result.output and "0.1.0" in result.output
    assert not (app / "charts").exists() and not (app / "Chart.lock").exists()
    (app / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
                                    "  - {name: sub, repository: 'file://../sub'}\n")
    result = _deps("update", app)
    assert result.exit_code == EXIT_INPUT and "has no version" in result.output


# --- OCI ------------------------------------------------------------------------------------------------

def test_an_oci_dependency_range_resolves_to_the_highest_match_with_helms_bytes(
        registry: RegistryServer, tmp_path: Path, helm: Helm) -> None:
    path = f"deps-{registry.variant}"
    subs = [_chart(tmp_path / "src" / v, "sub", v) for v in ("0.1.0", "0.2.0", "0.2.5", "1.0.0")]
    client, _ = client_for(registry)
    for sub in subs:  # one chart name, four versions: published one by one
        publish(build_charts([sub], epoch=EPOCH), registry=client, target=parse_oci_reference(registry.oci(path)),
                created_epoch=EPOCH)
    deps = f"  - {{name: sub, version: '>=0.2.0 <1.0.0', repository: '{registry.oci(path)}'}}\n"
    ours = _chart(tmp_path / "ours" / "app", "app", dependencies=deps)
    helms = shutil.copytree(ours, tmp_path / "helms" / "app")

    result = _deps("update", ours, *cli_registry_args(registry), env=cli_env(registry, tmp_path))
    assert result.exit_code == 0, result.output
    helm.login(registry)
    helm.run("dependency", "update", str(helms), *helm.registry_args(registry))
    assert _lock(ours) == _lock(helms)
    assert (ours / "charts" / "sub-0.2.5.tgz").read_bytes() == (helms / "charts" / "sub-0.2.5.tgz").read_bytes()


# --- classic HTTP repository ----------------------------------------------------------------------------

@pytest.fixture
def chart_repo(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1 (stopped after the test)."""
    folder = tmp_path / "repo"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/charts"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path: str) -> str:
        return super().translate_path(path.replace("/charts", "", 1))

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None


def _index(helm: Helm, folder: Path, url: str, versions: tuple[str, ...], tmp_path: Path) -> None:
    for version in versions:
        source = _chart(tmp_path / "http-src" / version, "sub", version)
        helm.run("package", str(source), "--destination", str(folder))
    helm.run("repo", "index", str(folder), "--url", url)


def test_an_http_repository_dependency_is_fetched_verified_and_pinned(
        chart_repo: tuple[Path, str], tmp_path: Path, helm: Helm) -> None:
    folder, url = chart_repo
    _index(helm, folder, url, ("1.0.0", "1.2.0", "2.0.0"), tmp_path)
    app = _chart(tmp_path / "app", "app", dependencies=f"  - {{name: sub, version: ^1.0.0, repository: '{url}'}}\n")
    result = _deps("update", app)
    assert result.exit_code == 0, result.output
    assert (app / "charts" / "sub-1.2.0.tgz").read_bytes() == (folder / "sub-1.2.0.tgz").read_bytes()
    helm.run("repo", "add", "local", url)
    helms = shutil.copytree(app, tmp_path / "helms" / "app", ignore=shutil.ignore_patterns("charts", "Chart.lock"))
    helm.run("dependency", "update", str(helms))
    assert _lock(app) == _lock(helms)

    # a newer version appears: build keeps the pin, update moves to it and drops the old archive
    _index(helm, folder, url, ("1.3.0",), tmp_path)
    assert _deps("build", app).exit_code == 0
    assert sorted(p.name for p in (app / "charts").iterdir()) == ["sub-1.2.0.tgz"]
    result = _deps("update", app)
    assert result.exit_code == 0 and "removed charts/sub-1.2.0.tgz" in result.output
    assert "sub 1.3.0 (was 1.2.0)" in result.output
    assert sorted(p.name for p in (app / "charts").iterdir()) == ["sub-1.3.0.tgz"]

    # the repository serves other bytes than its index lists: refused, nothing changed
    (folder / "sub-1.3.0.tgz").write_bytes((folder / "sub-1.0.0.tgz").read_bytes())
    shutil.rmtree(app / "charts")
    before = _state(app)
    result = _deps("build", app)
    assert result.exit_code == EXIT_OPERATIONAL, result.output
    assert "sha256" in result.output and hashlib.sha256(b"").hexdigest() not in result.output
    assert _state(app) == before


def test_an_unreachable_repository_changes_nothing(tmp_path: Path) -> None:
    app = _chart(tmp_path / "app", "app",
                 dependencies="  - {name: sub, version: ^1.0.0, repository: 'http://127.0.0.1:9/charts'}\n")
    (app / "charts").mkdir()
    (app / "charts" / "old-0.1.0.tgz").write_bytes(b"kept")
    before = _state(app)
    result = _deps("update", app)
    assert result.exit_code == EXIT_OPERATIONAL, result.output
    assert "Traceback" not in result.output
    assert _state(app) == before


def test_lint_reports_a_stale_chart_lock(tmp_path: Path) -> None:
    app = _chart(tmp_path / "app", "app", dependencies="  - {name: sub, version: '0.1.0', repository: 'file://../sub'}\n")
    _chart(tmp_path / "sub", "sub")
    assert _deps("update", app).exit_code == 0
    clean = CliRunner().invoke(cli, ["lint", "--no-helm", "--output", "json", str(app)])
    assert "chart-lock" not in clean.output, clean.output
    (app / "Chart.yaml").write_text((app / "Chart.yaml").read_text().replace("'0.1.0'", "'>=0.1.0'"))
    stale = CliRunner().invoke(cli, ["lint", "--no-helm", "--output", "json", str(app)])
    assert "chart-lock" in stale.output and "deps update" in stale.output

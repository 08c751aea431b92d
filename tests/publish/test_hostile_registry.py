"""A registry that misbehaves, met through the real `pull` and `plan` paths (the fetch `apply` uses
too): every case ends in a clear error or a verified chart, nothing lands outside the target folder,
and the password never appears in any output nor reaches another host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.support.hostile_registry import (
    PASSWORD,
    USER,
    HostileRegistry,
    chart_archive,
)
from toolkit.cli import cli
from toolkit.errors import EXIT_OK, EXIT_OPERATIONAL


@pytest.fixture
def hostile() -> Iterator[HostileRegistry]:
    server = HostileRegistry().start()
    yield server
    server.stop()


def pull(server: HostileRegistry, out: Path) -> Result:
    return CliRunner().invoke(cli, ["pull", "c@0.1.0", "--registry", f"oci://{server.host}/charts", "--plain-http",
                                    "--username", USER, "--password-stdin", "--out", str(out)],
                              input=PASSWORD + "\n", env={"DOCKER_CONFIG": str(out.parent / "no-docker"),
                                                          "HELM_REGISTRY_CONFIG": str(out.parent / "none.json")})


def assert_no_password(result: Result) -> None:
    assert PASSWORD not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr and "unexpected" not in result.stderr


def test_a_well_behaved_answer_is_pulled(hostile: HostileRegistry, tmp_path: Path) -> None:
    result = pull(hostile, tmp_path / "out")
    assert result.exit_code == EXIT_OK, result.output
    assert (tmp_path / "out" / "c" / "Chart.yaml").read_bytes().startswith(b"apiVersion: v2")
    assert_no_password(result)


def test_a_redirect_to_another_host_gets_no_credentials(hostile: HostileRegistry, tmp_path: Path) -> None:
    storage = HostileRegistry().start()
    try:
        hostile.fault, hostile.other = "redirect", storage
        result = pull(hostile, tmp_path / "out")
        assert result.exit_code == EXIT_OK, result.output  # the blob still matches its digest
        assert storage.requests and all("Authorization" not in headers for _, _, headers in storage.requests)
        assert any("Authorization" in headers for _, _, headers in hostile.requests)
        assert_no_password(result)
    finally:
        storage.stop()


@pytest.mark.parametrize(("fault", "says"), [
    ("wrong-digest", "content has digest"),
    ("huge-manifest", "larger than"),
    ("malformed-manifest", ""),
])
def test_a_lying_registry_is_refused_and_nothing_is_written(hostile: HostileRegistry, tmp_path: Path, fault: str,
                                                             says: str) -> None:
    hostile.fault = fault
    result = pull(hostile, tmp_path / "out")
    assert result.exit_code == EXIT_OPERATIONAL, result.output
    assert says in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*"))
    assert_no_password(result)


@pytest.mark.parametrize("entries", [
    [("c/Chart.yaml", "file", b"apiVersion: v2\nname: c\nversion: 0.1.0\n"), ("c/../../evil", "file", b"x")],
    [("c/Chart.yaml", "file", b"apiVersion: v2\nname: c\nversion: 0.1.0\n"), ("/tmp/evil", "file", b"x")],
    [("c/Chart.yaml", "file", b"apiVersion: v2\nname: c\nversion: 0.1.0\n"), ("c/link", "symlink", b"/etc/passwd")],
    [("c/Chart.yaml", "file", b"apiVersion: v2\nname: c\nversion: 0.1.0\n"), ("c/hard", "hardlink", b"c/Chart.yaml")],
], ids=["dot-dot", "absolute", "symlink", "hardlink"])
def test_a_hostile_archive_is_refused_before_anything_is_unpacked(hostile: HostileRegistry, tmp_path: Path,
                                                                  entries: list[tuple[str, str, bytes]]) -> None:
    hostile.archive = chart_archive(entries)
    out = tmp_path / "deep" / "out"
    result = pull(hostile, out)
    assert result.exit_code == EXIT_OPERATIONAL, result.output
    assert "unsafe or invalid chart archive" in result.stderr
    assert not (tmp_path / "evil").exists() and not Path("/tmp/evil").exists()
    assert not out.exists() or not any(out.rglob("*"))
    assert_no_password(result)


def test_plan_with_a_chart_from_a_hostile_registry_refuses_it(hostile: HostileRegistry, tmp_path: Path) -> None:
    hostile.archive = chart_archive([("c/Chart.yaml", "file", b"apiVersion: v2\nname: c\nversion: 0.1.0\n"),
                                     ("c/../../evil", "file", b"x")])
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata: {{name: cls-hostile}}
spec:
  version: 1.30.2
  clusterCIDR: 10.244.0.0/16
  bootstrapApps:
    - app:
        spec:
          name: c
          targetNamespace: apps
          chart: {{chartName: c, chartVersion: 0.1.0, repoURL: "oci://{hostile.host}/charts"}}
""")
    root = Path(__file__).resolve().parents[2]
    result = CliRunner().invoke(cli, ["plan", str(cluster), "--root", str(root), "--plain-http", "--username", USER,
                                      "--password-stdin"], input=PASSWORD + "\n",
                                env={"DOCKER_CONFIG": str(tmp_path / "no-docker"), "TKE_CATALOG_CACHE": str(tmp_path / "cache"),
                                     "HELM_REGISTRY_CONFIG": str(tmp_path / "none.json")})
    assert result.exit_code != EXIT_OK
    assert "unsafe or invalid chart archive" in result.output + result.stderr
    assert not (tmp_path / "evil").exists()
    assert not any((tmp_path / "cache").rglob("*.tgz")) if (tmp_path / "cache").exists() else True
    assert_no_password(result)


def test_a_trickling_server_is_cut_off_by_the_deadline(hostile: HostileRegistry) -> None:
    """One byte a second never trips a per-read timeout; the deadline on the whole answer does."""
    import base64
    import time

    from toolkit.adapters.registry.transport import Urllib3Transport
    from toolkit.errors import TransportFailure

    hostile.fault = "trickle"
    transport = Urllib3Transport(timeout=30, total_timeout=2.5)
    auth = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    started = time.monotonic()
    with pytest.raises(TransportFailure, match="took longer than 2 s") as failure:
        transport.request("GET", f"http://{hostile.host}/v2/charts/c/manifests/0.1.0", headers=auth)
    assert time.monotonic() - started < 6 and failure.value.permanent
    assert PASSWORD not in str(failure.value)


def test_an_answer_announcing_more_than_the_limit_is_refused_unread(hostile: HostileRegistry) -> None:
    from toolkit.adapters.registry.transport import Urllib3Transport
    from toolkit.errors import TransportFailure

    hostile.fault = "huge-manifest"
    import base64

    auth = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    with pytest.raises(TransportFailure, match="more than the limit of 1000000"):
        Urllib3Transport(max_body=1_000_000).request("GET", f"http://{hostile.host}/v2/charts/c/manifests/0.1.0",
                                                     headers=auth)


def publish(server: HostileRegistry, tmp_path: Path) -> Result:
    from tests.publish.conftest import chart_files, write_chart

    folder = write_chart(tmp_path / "project" / "charts" / "addons" / "c", chart_files("c"))
    return CliRunner().invoke(cli, ["publish", str(folder), "--root", str(tmp_path / "project"), "--registry",
                                    f"oci://{server.host}/charts", "--plain-http", "--username", USER,
                                    "--password-stdin"], input=PASSWORD + "\n",
                              env={"DOCKER_CONFIG": str(tmp_path / "no-docker"), "SOURCE_DATE_EPOCH": "1700000000",
                                   "HELM_REGISTRY_CONFIG": str(tmp_path / "none.json"),
                                   "TKE_CATALOG_CACHE": str(tmp_path / "cache")})


def test_publish_sends_no_credentials_to_an_upload_location_on_another_host(hostile: HostileRegistry,
                                                                             tmp_path: Path) -> None:
    other = HostileRegistry().start()
    try:
        hostile.fault, hostile.other = "upload-elsewhere", other
        result = publish(hostile, tmp_path)
        uploads = [headers for method, path, headers in other.requests if path.startswith("/elsewhere/")]
        assert uploads and all("Authorization" not in headers for headers in uploads), other.requests
        assert any("Authorization" in headers for _, _, headers in hostile.requests)
        assert_no_password(result)
    finally:
        other.stop()


def test_publish_to_a_registry_that_rewrites_the_manifest_fails_and_records_nothing(hostile: HostileRegistry,
                                                                                    tmp_path: Path) -> None:
    hostile.fault = "rewrite-manifest"
    result = publish(hostile, tmp_path)
    assert result.exit_code == EXIT_OPERATIONAL, result.output
    assert "stored digest" in result.output + result.stderr
    assert not (tmp_path / "project" / "catalog.lock").exists() or "sha256" not in (
        tmp_path / "project" / "catalog.lock").read_text()
    assert_no_password(result)

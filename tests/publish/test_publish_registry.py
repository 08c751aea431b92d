"""publish and pull against the real registry (plain, basic auth, TLS) and the real helm."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from tests.publish.conftest import (
    EPOCH,
    Helm,
    build,
    chart_files,
    client_for,
    make_charts,
    write_chart,
)
from tests.publish.test_oci import TRICKY_CHART_YAML
from tests.support.registry import RegistryServer
from toolkit.actions.build import build as build_to_folder
from toolkit.actions.publish import PublishAction, publish, write_lock
from toolkit.actions.pull import pull
from toolkit.adapters.registry.fetch import fetch_chart
from toolkit.core.oci_artifact import chart_artifact
from toolkit.core.oci_reference import OciChartRef, parse_oci_reference
from toolkit.errors import VersionConflict

pytestmark = [pytest.mark.registry]


def _target(server: RegistryServer, path: str) -> object:
    return parse_oci_reference(server.oci(path))


@pytest.mark.helm
def test_first_publish_pushes_what_helm_pulls_byte_for_byte(registry: RegistryServer, tmp_path: Path,
                                                            helm: Helm) -> None:
    charts = build(make_charts(tmp_path))
    client, _ = client_for(registry)
    target = parse_oci_reference(registry.oci("first"))
    seen = []
    result = publish(charts, registry=client, target=target, created_epoch=EPOCH, jobs=3, progress=seen.append)
    assert [c.action for c in result.charts] == [PublishAction.PUSHED] * 3
    assert sorted(c.name for c in seen) == ["alpha", "beta", "gamma"]
    assert all(c.uploaded_blobs == 2 for c in result.charts)

    helm.login(registry)
    for chart, outcome in zip(charts, result.charts, strict=True):
        out = tmp_path / "pulled" / chart.name
        out.mkdir(parents=True)
        pulled = helm.run("pull", f"{registry.oci('first')}/{chart.name}", "--version", chart.version,
                          "--destination", str(out), *helm.registry_args(registry))
        assert outcome.digest in pulled.stdout + pulled.stderr
        assert (out / f"{chart.name}-{chart.version}.tgz").read_bytes() == chart.archive
        shown = helm.run("show", "chart", str(out / f"{chart.name}-{chart.version}.tgz")).stdout
        assert f"name: {chart.name}" in shown and "version: 0.1.0" in shown


def test_republish_is_skipped_without_a_single_write(registry: RegistryServer, tmp_path: Path) -> None:
    charts = build(make_charts(tmp_path))
    target = parse_oci_reference(registry.oci("again"))
    client, _ = client_for(registry)
    publish(charts, registry=client, target=target, created_epoch=EPOCH)
    storage_before = {p: p.stat().st_mtime_ns for p in registry.storage.rglob("*")}

    counting_client, counter = client_for(registry, counting=True)
    assert counter is not None
    result = publish(charts, registry=counting_client, target=target, created_epoch=EPOCH, jobs=2)
    assert [c.action for c in result.charts] == [PublishAction.SKIPPED] * 3
    assert counter.writes() == []
    assert {m for m, _ in counter.calls} <= {"GET", "HEAD"}
    assert len([c for c in counter.calls if c[0] == "HEAD"]) == 3  # one HEAD per tag, nothing else
    assert {p: p.stat().st_mtime_ns for p in registry.storage.rglob("*")} == storage_before


def test_changed_chart_without_version_bump_conflicts_and_writes_nothing(registry: RegistryServer,
                                                                         tmp_path: Path) -> None:
    folders = make_charts(tmp_path, ("delta",))
    target = parse_oci_reference(registry.oci("conflict"))
    client, _ = client_for(registry)
    (old,) = publish(build(folders), registry=client, target=target, created_epoch=EPOCH).charts
    write_chart(folders[0], chart_files("delta", greeting="changed"))
    changed = build(folders)

    counting_client, counter = client_for(registry, counting=True)
    assert counter is not None
    (outcome,) = publish(changed, registry=counting_client, target=target, created_epoch=EPOCH).charts
    assert outcome.action is PublishAction.FAILED
    assert isinstance(outcome.error, VersionConflict)
    message = str(outcome.error)
    assert "delta" in message and old.digest in message and "bump `version`" in message
    assert chart_artifact(changed[0].archive, changed[0].package.files["Chart.yaml"],
                          created_epoch=EPOCH).digest in message
    assert counter.writes() == []
    assert client.manifest_digest("conflict/delta", "0.1.0") == old.digest

    dry = publish(changed, registry=client, target=target, created_epoch=EPOCH, dry_run=True, force=True)
    assert dry.charts[0].action is PublishAction.PUSHED
    assert client.manifest_digest("conflict/delta", "0.1.0") == old.digest

    (forced,) = publish(changed, registry=client, target=target, created_epoch=EPOCH, force=True).charts
    assert forced.action is PublishAction.PUSHED and forced.note == f"overwrote {old.digest}"
    assert client.manifest_digest("conflict/delta", "0.1.0") == forced.digest != old.digest


def test_dry_run_reports_and_writes_nothing(registry: RegistryServer, tmp_path: Path) -> None:
    charts = build(make_charts(tmp_path, ("epsilon",)))
    client, counter = client_for(registry, counting=True)
    assert counter is not None
    target = parse_oci_reference(registry.oci("dry"))
    result = publish(charts, registry=client, target=target, created_epoch=EPOCH, dry_run=True)
    assert result.charts[0].action is PublishAction.PUSHED and result.as_dict()["dryRun"] is True
    assert counter.writes() == []
    assert client.manifest_digest("dry/epsilon", "0.1.0") is None


def test_pull_verifies_and_unpacks_by_version_digest_and_latest(registry: RegistryServer, tmp_path: Path) -> None:
    folders = make_charts(tmp_path, ("zeta",))
    client, _ = client_for(registry)
    target = parse_oci_reference(registry.oci("pull"))
    (first,) = publish(build(folders), registry=client, target=target, created_epoch=EPOCH).charts
    write_chart(folders[0], chart_files("zeta", version="0.2.0+build.1"))
    (second,) = publish(build(folders), registry=client, target=target, created_epoch=EPOCH).charts
    assert sorted(client.list_tags("pull/zeta")) == ["0.1.0", "0.2.0_build.1"]

    by_digest = fetch_chart(OciChartRef("zeta", digest=first.digest), registry=client, source=target)
    assert (by_digest.version, by_digest.digest) == ("0.1.0", first.digest)
    latest = pull(OciChartRef("zeta"), registry=client, source=target, out=tmp_path / "out")
    assert latest.version == "0.2.0+build.1" and latest.digest == second.digest
    assert (tmp_path / "out" / "zeta" / "templates" / "cm.yaml").is_file()
    assert (tmp_path / "out" / "zeta" / "Chart.yaml").read_text() == chart_files("zeta", "0.2.0+build.1")["Chart.yaml"]


def test_lock_file_merges_previous_entries(registry: RegistryServer, tmp_path: Path) -> None:
    client, _ = client_for(registry)
    target = parse_oci_reference(registry.oci("lock"))
    lock = tmp_path / "catalog.lock"
    first = publish(build(make_charts(tmp_path / "a", ("eta",))), registry=client, target=target, created_epoch=EPOCH)
    write_lock(lock, first)
    second = publish(build(make_charts(tmp_path / "b", ("theta",))), registry=client, target=target,
                     created_epoch=EPOCH)
    written = write_lock(lock, second)
    assert json.loads(lock.read_text()) == written
    assert written == {"registry": str(target), "charts": [
        {"name": "eta", "version": "0.1.0", "digest": first.charts[0].digest},
        {"name": "theta", "version": "0.1.0", "digest": second.charts[0].digest}]}


@pytest.mark.helm
def test_manifest_digest_equals_helm_push_for_the_same_archive(registry: RegistryServer, tmp_path: Path,
                                                               helm: Helm) -> None:
    """helm push of our archive (file mtime = SOURCE_DATE_EPOCH) writes exactly our manifest: so publish skips it."""
    tricky = write_chart(tmp_path / "charts" / "addons" / "tricky", {
        "Chart.yaml": TRICKY_CHART_YAML, "values.yaml": "data: {}\n", "templates/x.yaml": "# nothing\n",
        # its dependency, vendored as `helm dependency build` leaves it (helm refuses the chart without it)
        "charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 1.0.4\n"})
    folders = [*make_charts(tmp_path, ("iota",)), tricky]
    charts = build(folders)
    helm.login(registry)
    for chart in charts:
        archive = tmp_path / f"{chart.name}-{chart.version}.tgz"
        archive.write_bytes(chart.archive)
        os.utime(archive, (EPOCH, EPOCH))
        helm.run("push", str(archive), registry.oci("helm-pushed"), *helm.registry_args(registry))
    client, counter = client_for(registry, counting=True)
    assert counter is not None
    target = parse_oci_reference(registry.oci("helm-pushed"))
    result = publish(charts, registry=client, target=target, created_epoch=EPOCH)
    assert [(c.action, c.note) for c in result.charts] == [(PublishAction.SKIPPED, "unchanged")] * 2
    assert counter.writes() == []


@pytest.mark.helm
def test_helm_packaged_and_pushed_chart_is_read_by_pull(registry: RegistryServer, tmp_path: Path,
                                                        helm: Helm) -> None:
    (folder,) = make_charts(tmp_path, ("kappa",))
    helm.login(registry)
    helm.run("package", str(folder), "--destination", str(tmp_path / "pkg"))
    pushed = helm.run("push", str(tmp_path / "pkg" / "kappa-0.1.0.tgz"), registry.oci("from-helm"),
                      *helm.registry_args(registry))
    client, _ = client_for(registry)
    target = parse_oci_reference(registry.oci("from-helm"))
    chart = pull(OciChartRef("kappa", version="0.1.0"), registry=client, source=target, out=tmp_path / "out")
    assert chart.digest in pushed.stdout + pushed.stderr
    with tarfile.open(tmp_path / "pkg" / "kappa-0.1.0.tgz") as tar:
        assert chart.archive == (tmp_path / "pkg" / "kappa-0.1.0.tgz").read_bytes()
        assert sorted(m.name.split("/", 1)[1] for m in tar if m.isfile()) == sorted(chart.files)
    # helm package's archive differs in bytes (mtime = now), but holds the same files: publish skips it
    (outcome,) = publish(build([folder]), registry=client, target=target, created_epoch=EPOCH).charts
    assert (outcome.action, outcome.note) == (PublishAction.SKIPPED, "same chart, other archive bytes")
    assert outcome.digest == chart.digest


@pytest.mark.helm
def test_what_we_push_helm_templates(registry: RegistryServer, tmp_path: Path, helm: Helm) -> None:
    charts = build(make_charts(tmp_path, ("lambda",), greeting="from-oci"))
    client, _ = client_for(registry)
    publish(charts, registry=client, target=parse_oci_reference(registry.oci("tpl")), created_epoch=EPOCH)
    helm.login(registry)
    rendered = helm.run("template", "demo", f"{registry.oci('tpl')}/lambda", "--version", "0.1.0",
                        *helm.registry_args(registry)).stdout
    assert "name: demo-cm" in rendered and 'greeting: "from-oci"' in rendered


@pytest.mark.helm
def test_helm_push_of_our_build_output_writes_our_publish_manifest(registry: RegistryServer, tmp_path: Path,
                                                                   helm: Helm) -> None:
    """The archive file `build` writes carries SOURCE_DATE_EPOCH as its mtime, which `helm push` records."""
    folders = make_charts(tmp_path, ("mu",))
    (built,) = build_to_folder(folders, out=tmp_path / "out", epoch=EPOCH).charts
    assert built.path is not None and int(built.path.stat().st_mtime) == EPOCH
    helm.login(registry)
    pushed = helm.run("push", str(built.path), registry.oci("pushed-by-helm"), *helm.registry_args(registry))
    client, _ = client_for(registry)
    (ours,) = publish(build(folders), registry=client, target=_target(registry, "pushed-by-us"),
                      created_epoch=EPOCH).charts
    assert ours.action == PublishAction.PUSHED
    assert f"Digest: {ours.digest}" in pushed.stdout + pushed.stderr


@pytest.mark.helm
def test_a_chart_helm_packaged_with_its_subchart_archive_unpacked_is_the_same_chart(
        registry: RegistryServer, tmp_path: Path, helm: Helm) -> None:
    """helm package saves `charts/sub-1.0.0.tgz` as a `charts/sub/` folder and rewrites every Chart.yaml:
    publish still sees the same chart (no false conflict)."""
    sub = write_chart(tmp_path / "src" / "sub", chart_files("sub", version="1.0.0"))
    (sub_built,) = build([sub])
    parent = write_chart(tmp_path / "charts" / "addons" / "nu", {
        **chart_files("nu"),
        "Chart.yaml": "apiVersion: v2\nname: nu\nversion: 0.1.0\n"
                      "dependencies:\n  - {name: sub, version: 1.0.0, repository: 'file://../sub'}\n"})
    (parent / "charts").mkdir()
    (parent / "charts" / "sub-1.0.0.tgz").write_bytes(sub_built.archive)
    helm.login(registry)
    helm.run("package", str(parent), "--destination", str(tmp_path / "pkg"))
    with tarfile.open(tmp_path / "pkg" / "nu-0.1.0.tgz") as tar:
        assert "nu/charts/sub/Chart.yaml" in tar.getnames()  # unpacked by helm
    helm.run("push", str(tmp_path / "pkg" / "nu-0.1.0.tgz"), registry.oci("unpacked"), *helm.registry_args(registry))
    client, _ = client_for(registry)
    target = _target(registry, "unpacked")
    (outcome,) = publish(build([parent]), registry=client, target=target, created_epoch=EPOCH).charts
    assert (outcome.action, outcome.note) == (PublishAction.SKIPPED, "same chart, other archive bytes")
    # and a real change to the subchart is still a conflict
    (parent / "charts" / "sub-1.0.0.tgz").write_bytes(build([write_chart(
        tmp_path / "src2" / "sub", chart_files("sub", version="1.0.0", greeting="changed"))])[0].archive)
    (changed,) = publish(build([parent]), registry=client, target=target, created_epoch=EPOCH).charts
    assert changed.action == PublishAction.FAILED and isinstance(changed.error, VersionConflict)

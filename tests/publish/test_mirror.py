"""`mirror` between two real registries: a small image (and a two-platform index of it) pushed to one,
mirrored to the other, read back over the registry API with the digest unchanged; a re-run writes
nothing; a missing image fails alone; a chart published by us mirrors as well and helm pulls it."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.publish.conftest import EPOCH, Helm, client_for, make_charts
from tests.support.registry import RegistryServer
from toolkit.actions.build import build_charts
from toolkit.actions.publish import publish
from toolkit.cli import cli
from toolkit.core.image_ref import parse_image
from toolkit.core.oci_reference import parse_oci_reference
from toolkit.errors import EXIT_OPERATIONAL

pytestmark = [pytest.mark.registry]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer(text: str) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(text.encode())
        tar.addfile(info, io.BytesIO(text.encode()))
    return gzip.compress(raw.getvalue(), mtime=0)


def _push_image(server: RegistryServer, repository: str, tag: str) -> str:
    """Push a tiny two-platform image (an index of two manifests) with our client; return its digest."""
    client, _ = client_for(server)
    children = []
    for arch in ("amd64", "arm64"):
        layer = _layer(f"hello from {arch}\n")
        config = json.dumps({"architecture": arch, "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": [_digest(gzip.decompress(layer))]}}).encode()
        for blob in (layer, config):
            client.upload_blob(repository, _digest(blob), blob)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "digest": _digest(config), "size": len(config)},
                               "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                           "digest": _digest(layer), "size": len(layer)}]}).encode()
        client.put_manifest(repository, _digest(manifest), manifest, OCI_MANIFEST)
        children.append({"mediaType": OCI_MANIFEST, "digest": _digest(manifest), "size": len(manifest),
                         "platform": {"architecture": arch, "os": "linux"}})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}).encode()
    return client.put_manifest(repository, tag, index, OCI_INDEX)


def _registry_digest(server: RegistryServer, repository: str, reference: str) -> tuple[str, bytes]:
    """What the registry itself answers for the manifest (read with urllib, not our client)."""
    request = urllib.request.Request(f"{server.url}/v2/{repository}/manifests/{reference}",
                                     headers={"Accept": f"{OCI_INDEX}, {OCI_MANIFEST}"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - a local test registry
        return answer.headers["Docker-Content-Digest"], answer.read()


def _mirror(*args: str) -> Result:
    return CliRunner().invoke(cli, ["mirror", *args, "--plain-http"],
                              env={"HELM_REGISTRY_CONFIG": "/nonexistent", "DOCKER_CONFIG": "/nonexistent"})


@pytest.fixture
def two_registries(fresh_registry: Callable[[str], RegistryServer]) -> tuple[RegistryServer, RegistryServer]:
    return fresh_registry("plain"), fresh_registry("plain")


def test_an_image_is_mirrored_with_its_digest_unchanged_and_a_rerun_writes_nothing(
        two_registries: tuple[RegistryServer, RegistryServer]) -> None:
    source, mirror = two_registries
    digest = _push_image(source, "team/tiny", "1.0")
    image = f"{source.host}/team/tiny:1.0"

    result = _mirror(image, "--to", f"{mirror.host}/platform")
    assert result.exit_code == 0, result.output
    assert f"copied     {image} -> {mirror.host}/platform/team/tiny:1.0 {digest}, 4 blob(s) uploaded" in result.output
    served, body = _registry_digest(mirror, "platform/team/tiny", "1.0")
    assert served == digest == _digest(body)
    for child in json.loads(body)["manifests"]:  # every platform's manifest (and so its blobs) is there
        assert _registry_digest(mirror, "platform/team/tiny", child["digest"])[0] == child["digest"]

    again = _mirror(image, "--to", f"{mirror.host}/platform", "-o", "json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["images"][0]["action"] == "unchanged"


def test_a_missing_image_fails_alone(two_registries: tuple[RegistryServer, RegistryServer], tmp_path: Path) -> None:
    source, mirror = two_registries
    _push_image(source, "team/tiny", "1.0")
    listing = tmp_path / "images.json"
    listing.write_text(json.dumps({"images": [{"image": f"{source.host}/team/tiny:1.0", "usedBy": []},
                                              {"image": f"{source.host}/team/absent:9", "usedBy": []}]}))
    result = _mirror("--from-json", str(listing), "--to", mirror.host)
    assert result.exit_code == EXIT_OPERATIONAL, result.output
    assert "team/absent:9: not found" in result.output and "1 of 2 images were not mirrored" in result.output
    assert _registry_digest(mirror, "team/tiny", "1.0")[0].startswith("sha256:")


@pytest.mark.helm
def test_a_published_chart_mirrors_and_helm_pulls_it_from_the_mirror(
        two_registries: tuple[RegistryServer, RegistryServer], tmp_path: Path, helm: Helm) -> None:
    source, mirror = two_registries
    client, _ = client_for(source)
    (outcome,) = publish(build_charts(make_charts(tmp_path, ("omicron",)), epoch=EPOCH), registry=client,
                         target=parse_oci_reference(source.oci("charts")), created_epoch=EPOCH).charts
    result = _mirror(f"{source.host}/charts/omicron:0.1.0", "--to", f"{mirror.host}/mirror")
    assert result.exit_code == 0, result.output
    (tmp_path / "pulled").mkdir()
    pulled = helm.run("pull", f"oci://{mirror.host}/mirror/charts/omicron", "--version", "0.1.0",
                      "--plain-http", "--destination", str(tmp_path / "pulled"))
    assert outcome.digest in pulled.stdout + pulled.stderr


def test_image_references_read_as_docker_reads_them() -> None:
    assert str(parse_image("busybox:1.36")) == "docker.io/busybox:1.36"
    assert parse_image("busybox").repository == "library/busybox"
    assert parse_image("127.0.0.1:5000/a/b@sha256:" + "0" * 64).reference == "sha256:" + "0" * 64

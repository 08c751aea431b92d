"""The pure OCI core: references, helm's config and manifest encoding, archives, credentials."""

from __future__ import annotations

import base64
import gzip
import io
import json
import tarfile

import pytest

from tests.publish.conftest import EPOCH, chart_files
from toolkit.core.archive import build_chart_archive, sha256_digest
from toolkit.core.archive_reader import read_chart_archive
from toolkit.core.credentials import Credentials, credentials_from_auth_config
from toolkit.core.gojson import helm_config
from toolkit.core.oci_artifact import (
    CHART_LAYER_MEDIA_TYPE,
    CONFIG_MEDIA_TYPE,
    chart_artifact,
    parse_chart_manifest,
    rfc3339,
)
from toolkit.core.oci_reference import (
    OciChartRef,
    OciReference,
    parse_chart_ref,
    parse_oci_reference,
)
from toolkit.errors import InputError, RegistryError, UsageError

TRICKY_CHART_YAML = """\
apiVersion: v2
name: tricky
version: 1.2.3+build.7
description: >
  A <b>tricky</b> chart & friends,
  over two lines.
appVersion: 1.10
deprecated: yes
home: https://example.com/tricky
icon: https://example.com/icon.png
kubeVersion: ">=1.24.0-0"
type: application
keywords: [one, two]
sources:
  - https://github.com/example/tricky
  - https://github.com/example/other
maintainers:
  - name: Ann
    email: ann@example.com
  - name: Bob
annotations:
  org.opencontainers.image.title: not-the-name
  example.com/number: 42
  a.first: "x"
dependencies:
  - name: sub
    version: "~1.0"
    repository: ""
    alias: sub-one
    condition: sub.enabled
    tags: [extras]
    enabled: true
    import-values: [data]
"""


def test_oci_reference_parses_host_port_and_path() -> None:
    ref = parse_oci_reference("oci://registry.example.com:5000/tke/charts/")
    assert ref == OciReference("registry.example.com:5000", "tke/charts")
    assert ref.repository("cilium") == "tke/charts/cilium"
    assert str(ref) == "oci://registry.example.com:5000/tke/charts"
    assert parse_oci_reference("oci://127.0.0.1:5000").repository("x") == "x"


@pytest.mark.parametrize("text", ["https://r.example.com/charts", "oci://", "oci://bad host/x",
                                  "oci://r.example.com/Charts", "oci://r.example.com/charts:1.0"])
def test_bad_oci_references_are_usage_errors_with_a_hint(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_oci_reference(text)
    assert caught.value.hint


def test_chart_refs() -> None:
    digest = "sha256:" + "a" * 64
    assert parse_chart_ref("cilium") == OciChartRef("cilium")
    assert parse_chart_ref("cilium@1.2.3+b1").reference == "1.2.3_b1"
    assert parse_chart_ref(f"cilium@{digest}") == OciChartRef("cilium", digest=digest)
    for bad in ("", "Cilium", "cilium@", "cilium@sha256:abc", "a/b"):
        with pytest.raises(UsageError):
            parse_chart_ref(bad)


def test_config_is_go_json_of_helms_metadata_struct() -> None:
    config = json.loads(helm_config(TRICKY_CHART_YAML))
    assert list(config) == ["name", "home", "sources", "version", "description", "keywords", "maintainers",
                            "icon", "apiVersion", "appVersion", "deprecated", "annotations", "kubeVersion",
                            "dependencies", "type"]
    assert config["description"] == "A <b>tricky</b> chart & friends, over two lines. "  # sanitized newlines
    assert config["appVersion"] == "1.1"  # YAML float through sigs.k8s.io/yaml, as helm reads it
    assert config["deprecated"] is True  # YAML 1.1 `yes`
    assert config["annotations"] == {"a.first": "x", "example.com/number": "42",
                                     "org.opencontainers.image.title": "not-the-name"}
    assert config["maintainers"] == [{"name": "Ann", "email": "ann@example.com"}, {"name": "Bob"}]
    assert config["dependencies"] == [{"name": "sub", "version": "~1.0", "repository": "", "condition": "sub.enabled",
                                       "tags": ["extras"], "enabled": True, "import-values": ["data"],
                                       "alias": "sub-one"}]
    raw = helm_config(TRICKY_CHART_YAML)
    assert b"\\u003cb\\u003e" in raw and b"\\u0026" in raw and b": " not in raw


def test_manifest_has_helms_annotations_and_reproducible_created() -> None:
    files = {k: v.encode() for k, v in chart_files("alpha").items()}
    archive = build_chart_archive("alpha", files, mtime=EPOCH)
    artifact = chart_artifact(archive, files["Chart.yaml"], created_epoch=EPOCH)
    again = chart_artifact(archive, files["Chart.yaml"], created_epoch=EPOCH)
    assert artifact.digest == again.digest == sha256_digest(artifact.manifest)
    manifest = json.loads(artifact.manifest)
    assert "mediaType" not in manifest  # helm's ocispec.Manifest leaves it empty (omitempty)
    assert manifest["schemaVersion"] == 2
    assert manifest["config"] == {"mediaType": CONFIG_MEDIA_TYPE, "digest": sha256_digest(artifact.config),
                                  "size": len(artifact.config)}
    assert manifest["layers"] == [{"mediaType": CHART_LAYER_MEDIA_TYPE, "digest": sha256_digest(archive),
                                   "size": len(archive)}]
    assert manifest["annotations"] == {
        "org.opencontainers.image.created": rfc3339(EPOCH),
        "org.opencontainers.image.description": "The alpha test chart.",
        "org.opencontainers.image.title": "alpha",
        "org.opencontainers.image.version": "0.1.0",
        "tke-catalog/category": "test",
    }
    assert rfc3339(EPOCH) == "2023-11-14T22:13:20Z"
    assert chart_artifact(archive, files["Chart.yaml"], created_epoch=EPOCH + 1).digest != artifact.digest


def test_tricky_annotations_match_helms_rules() -> None:
    manifest = json.loads(chart_artifact(b"x", TRICKY_CHART_YAML, created_epoch=0).manifest)
    annotations = manifest["annotations"]
    assert annotations["org.opencontainers.image.title"] == "tricky"  # chart annotations cannot override it
    assert annotations["org.opencontainers.image.source"] == "https://github.com/example/tricky"
    assert annotations["org.opencontainers.image.authors"] == "Ann (ann@example.com), Bob"
    assert annotations["org.opencontainers.image.url"] == "https://example.com/tricky"
    assert annotations["example.com/number"] == "42"
    assert chart_artifact(b"x", TRICKY_CHART_YAML, created_epoch=0).tag == "1.2.3_build.7"


def test_parse_chart_manifest_rejects_non_charts() -> None:
    artifact = chart_artifact(b"x", TRICKY_CHART_YAML, created_epoch=0)
    parsed = parse_chart_manifest(artifact.manifest, "here")
    assert parsed.chart.digest == sha256_digest(b"x")
    image = json.loads(artifact.manifest)
    image["config"]["mediaType"] = "application/vnd.oci.image.config.v1+json"
    with pytest.raises(RegistryError, match="not a helm chart"):
        parse_chart_manifest(json.dumps(image).encode(), "here")
    with pytest.raises(RegistryError):
        parse_chart_manifest(b"not json", "here")


def _tgz(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for info, data in entries:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return gzip.compress(raw.getvalue())


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def test_read_chart_archive_strips_the_chart_folder() -> None:
    files = {k: v.encode() for k, v in chart_files("alpha").items()}
    top, read = read_chart_archive(build_chart_archive("alpha", files, mtime=EPOCH), "t")
    assert top == "alpha" and read == files


def _link(name: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = "/etc/passwd"
    return info


@pytest.mark.parametrize("entries, reason", [
    ([(_file("/abs/Chart.yaml"), b"x")], "absolute"),
    ([(_file("c/Chart.yaml"), b"x"), (_file("c/../../evil"), b"x")], "outside"),
    ([(_file("c/Chart.yaml"), b"x"), (_link("c/link", tarfile.SYMTYPE), b"")], "link"),
    ([(_file("c/Chart.yaml"), b"x"), (_link("c/hard", tarfile.LNKTYPE), b"")], "link"),
    ([(_file("c/Chart.yaml"), b"x"), (_link("c/dev", tarfile.CHRTYPE), b"")], "special"),
    ([(_file("c/Chart.yaml"), b"x"), (_file("d/other"), b"x")], "not below"),
    ([(_file("Chart.yaml"), b"x")], "outside"),
    ([(_file("c/values.yaml"), b"x")], "no Chart.yaml"),
    ([(_file("c/Chart.yaml"), b"x"), (_file("c/big"), b"0" * 2048)], "larger than 1024"),
])
def test_read_chart_archive_rejects_unsafe_entries(entries: list[tuple[tarfile.TarInfo, bytes]], reason: str) -> None:
    with pytest.raises(RegistryError, match=reason):
        read_chart_archive(_tgz(entries), "t", max_file=1024)


def test_read_chart_archive_caps_the_total_size() -> None:
    entries = [(_file("c/Chart.yaml"), b"x")] + [(_file(f"c/f{i}"), b"0" * 600) for i in range(4)]
    with pytest.raises(RegistryError, match="larger than 2000"):
        read_chart_archive(_tgz(entries), "t", max_total=2000, max_file=1024)
    with pytest.raises(RegistryError, match="invalid chart archive"):
        read_chart_archive(b"not gzip at all", "t")


def test_credentials_from_docker_style_config() -> None:
    auth = base64.b64encode(b"ann:pa:ss").decode()
    config = json.dumps({"auths": {"https://reg.example.com:5000/v1/": {"auth": auth},
                                   "other.example.com": {"username": "bob", "password": "pw"}}}).encode()
    found = credentials_from_auth_config(config, "reg.example.com:5000", "cfg")
    assert found == Credentials("ann", "pa:ss", "cfg")
    assert credentials_from_auth_config(config, "other.example.com", "cfg") == Credentials("bob", "pw", "cfg")
    assert credentials_from_auth_config(config, "missing.example.com", "cfg") is None
    assert credentials_from_auth_config(b"{}", "x", "cfg") is None
    with pytest.raises(InputError):
        credentials_from_auth_config(b"{", "x", "cfg")
    with pytest.raises(InputError):
        credentials_from_auth_config(json.dumps({"auths": {"x": {"auth": "!!"}}}).encode(), "x", "cfg")


def test_credentials_repr_hides_the_password() -> None:
    credentials = Credentials("ann", "very-secret-pw", "env")
    for text in (repr(credentials), str(credentials), f"{credentials}", repr([credentials])):
        assert "very-secret-pw" not in text and "ann" in text

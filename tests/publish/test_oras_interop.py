"""oras-py, an independent OCI client, reads what `publish` pushed: the manifest carries helm's media
types and the chart layer it downloads is byte-identical to our archive, on every registry variant."""

from __future__ import annotations

from pathlib import Path

import oras.provider
import pytest

from tests.publish.conftest import build, make_charts
from tests.support.registry import RegistryServer
from toolkit.actions.publish import publish
from toolkit.adapters.registry.client import open_registry
from toolkit.core.credentials import Credentials
from toolkit.core.oci_reference import parse_oci_reference

pytestmark = pytest.mark.registry


def test_oras_py_pulls_what_publish_pushed(registry: RegistryServer, tmp_path: Path) -> None:
    (chart,) = build(make_charts(tmp_path, ("oras-interop",)))
    target = parse_oci_reference(registry.oci(f"oras-{registry.variant}"))
    credentials = Credentials(registry.username, registry.password, "test") if registry.username else None
    client = open_registry(target.host, credentials=credentials, plain_http=registry.plain_http,
                           ca_file=registry.ca_file)
    result = publish([chart], registry=client, target=target, created_epoch=1, force=False, dry_run=False, jobs=1)
    assert [c.action.value for c in result.charts] == ["pushed"]

    oras_client = oras.provider.Registry(hostname=registry.host, insecure=registry.plain_http,
                                         tls_verify=str(registry.ca_file) if registry.ca_file else True,
                                         auth_backend="basic" if registry.username else "token")
    if registry.username and registry.password:
        oras_client.auth.set_basic_auth(registry.username, registry.password)
    reference = f"{registry.host}/{target.repository('oras-interop')}"
    manifest = oras_client.get_manifest(f"{reference}:0.1.0")
    assert manifest["config"]["mediaType"] == "application/vnd.cncf.helm.config.v1+json"
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    out = tmp_path / "layer.tgz"
    oras_client.download_blob(reference, layer["digest"], str(out))
    assert out.read_bytes() == chart.archive

"""The real stack end to end: pyhelm3 drives the built helm, and oras-py round-trips artifacts
through every registry variant byte for byte."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import oras.provider
import pytest
from pyhelm3 import Client

from tests.support.registry import RegistryServer
from tests.support.registry_fixtures import require_helm
from toolkit.adapters.helm import detect_version

TINY_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiny\nversion: 0.1.0\n",
    "values.yaml": "greeting: hello\n",
    "templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
        "data:\n  greeting: {{ .Values.greeting | quote }}\n"
    ),
}


def write_chart(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


@pytest.mark.helm
def test_pyhelm3_renders_with_the_built_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helm = require_helm()
    for home in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"):
        monkeypatch.setenv(home, str(tmp_path / home.lower()))
    chart_dir = write_chart(tmp_path / "tiny", TINY_CHART)
    client = Client(executable=str(helm))
    # the helm under test (bin/helm 3.22 or bin/helm4) reports a full version: its ldflags were set
    assert f"v{client.version}" == str(detect_version(str(helm))) and client.version.major in (3, 4)

    async def render() -> list[dict[str, object]]:
        chart = await client.get_chart(chart_dir)
        return list(await client.template_resources(chart, "smoke", {"greeting": "hi there"}))

    resources = asyncio.run(render())
    assert resources == [{"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": "smoke-cm"}, "data": {"greeting": "hi there"}}]


def _oras_client(server: RegistryServer) -> oras.provider.Registry:
    client = oras.provider.Registry(
        hostname=server.host, insecure=server.plain_http,
        tls_verify=str(server.ca_file) if server.ca_file else True,
        auth_backend="basic" if server.username else "token",
    )
    if server.username and server.password:
        client.auth.set_basic_auth(server.username, server.password)
    return client


@pytest.mark.registry
def test_oras_round_trip_is_byte_identical(registry: RegistryServer, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    payload = os.urandom(64 * 1024)
    Path("artifact.bin").write_bytes(payload)
    client = _oras_client(registry)
    target = f"{registry.host}/smoke/artifact:v1"
    response = client.push(target=target, files=["artifact.bin"])
    assert response.status_code in (200, 201)

    manifest = client.get_manifest(target)
    (layer,) = manifest["layers"]
    assert layer["digest"] == "sha256:" + hashlib.sha256(payload).hexdigest()
    out = tmp_path / "pulled.bin"
    client.download_blob(f"{registry.host}/smoke/artifact", layer["digest"], str(out))
    assert out.read_bytes() == payload


@pytest.mark.registry
def test_registry_refuses_wrong_credentials(fresh_registry, tmp_path: Path,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server = fresh_registry("basic")
    server.password = "wrong-password"
    monkeypatch.chdir(tmp_path)
    Path("artifact.bin").write_bytes(b"x")
    with pytest.raises(Exception):  # noqa: B017 - oras raises ValueError or HTTPError by version
        _oras_client(server).push(target=f"{server.host}/smoke/denied:v1", files=["artifact.bin"])
    assert not (server.storage / "docker/registry/v2/repositories/smoke/denied").exists()

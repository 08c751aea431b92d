"""The containerd-config chart against the real tools: helm renders config.toml, and the containerd
binary the nodes run (Debian bookworm's 1.6) must load it and report the values we set."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support.process import binary
from tests.support.registry_fixtures import require_helm

CHART = Path(__file__).resolve().parents[2] / "charts" / "platform" / "containerd-config"

pytestmark = [pytest.mark.helm, pytest.mark.containerd]


def _run(argv: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)  # noqa: S603


def _render(tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    helm = require_helm()
    result = _run([str(helm), "template", "nodes", str(CHART), "--namespace", "kube-system", *args], tmp_path)
    assert result.returncode == 0, result.stderr
    return [doc for doc in YAML(typ="safe").load_all(result.stdout) if doc]


def _config_toml(docs: list[dict[str, Any]]) -> str:
    secret = next(d for d in docs if d["kind"] == "Secret")
    return base64.b64decode(secret["data"]["config.toml"]).decode()


def _containerd() -> Path:
    path = binary("containerd")
    if path is None:
        pytest.skip("containerd binary not found (expected at ~/.cache/tke-catalog/bin/containerd)")
    return path


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            "mirrors-values.yaml",
            [
                'sandbox_image = "mirror.example.com/google_containers/pause:3.9"',
                '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]',
                '"https://mirror.ccs.tencentyun.com", "https://docker.mirror.example.com"',
                '[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example.com".auth]',
                "insecure_skip_verify = true",
            ],
        ),
        ("systemd-values.yaml", ["SystemdCgroup = true", "max_concurrent_downloads = 5", 'snapshotter = "overlayfs"']),
        ("cgroupfs-native-values.yaml", ["SystemdCgroup = false", "max_concurrent_downloads = 1", 'snapshotter = "native"']),
    ],
)
def test_real_containerd_loads_the_rendered_config(tmp_path: Path, values: str, expected: list[str]) -> None:
    containerd = _containerd()
    config = tmp_path / "config.toml"
    config.write_text(_config_toml(_render(tmp_path, "-f", str(CHART / "ci" / values))))
    result = _run([str(containerd), "--config", str(config), "config", "dump"], tmp_path)
    assert result.returncode == 0, result.stderr
    for needle in expected:
        assert needle in result.stdout, f"{needle!r} missing from containerd's view of the config"


def test_real_containerd_rejects_what_it_cannot_parse(tmp_path: Path) -> None:
    """The oracle has teeth: a CRI key of the wrong type fails `config dump`. (containerd 1.6 does not
    check the version header or runc's options there, so those cannot serve as the probe.)"""
    containerd = _containerd()
    config = tmp_path / "config.toml"
    rendered = _config_toml(_render(tmp_path))
    assert "max_concurrent_downloads = 3" in rendered
    config.write_text(rendered.replace("max_concurrent_downloads = 3", 'max_concurrent_downloads = "three"'))
    result = _run([str(containerd), "--config", str(config), "config", "dump"], tmp_path)
    assert result.returncode != 0


def test_global_registry_moves_the_sandbox_image(tmp_path: Path) -> None:
    assert 'sandbox_image = "reg.local/pause:3.10"' in _config_toml(_render(tmp_path, "--set", "global.imageRegistry=reg.local"))


def test_credentials_stay_out_of_config_maps_and_existing_secrets_are_mounted(tmp_path: Path) -> None:
    docs = _render(tmp_path, "-f", str(CHART / "ci" / "mirrors-values.yaml"))
    assert not [d for d in docs if d["kind"] == "ConfigMap"]
    toml = _config_toml(docs)
    assert 'password = "s3cr\\"et"' in toml
    assert 'auth = "@@AUTH_0@@"' in toml
    daemonset = next(d for d in docs if d["kind"] == "DaemonSet")
    volumes = {v["name"]: v for v in daemonset["spec"]["template"]["spec"]["volumes"]}
    source = volumes["auth"]["projected"]["sources"][0]["secret"]
    assert source == {"name": "reg-example-auth", "items": [{"key": "auth", "path": "AUTH_0"}]}

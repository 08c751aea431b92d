"""The containerd-config chart against the real tools: helm renders config.toml and hosts.toml, and the
containerd releases the nodes run (Debian bookworm's 1.6, and 2.4 built from the Go module proxy) load
them: `config dump` shows our settings in effect, a daemon started on the file reports its CRI plugin ok,
and `ctr` pulls through the mirrors the hosts.toml files name."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.containerd import (
    CHART,
    ContainerdDaemon,
    containerd_binary,
    cri_status,
    ctr_binary,
    render_chart,
    run,
    secret_files,
)
from tests.support.registry import RegistryServer
from tests.support.registry_fixtures import require_helm

pytestmark = [pytest.mark.helm, pytest.mark.containerd]

VARIANTS: dict[str, list[str]] = {
    "mirrors-values.yaml": ['sandbox = "mirror.example.com/google_containers/pause:3.9"', 'username = "puller"',
                            "SystemdCgroup = true"],
    "systemd-values.yaml": ["SystemdCgroup = true", "max_concurrent_downloads = 5", 'snapshotter = "overlayfs"'],
    "cgroupfs-native-values.yaml": ["SystemdCgroup = false", "max_concurrent_downloads = 1",
                                    'snapshotter = "native"'],
}
# (the containerd that loads the file, the containerdVersion value it was rendered for)
LOADS = [("1.6", "1.7"), ("2.4", "1.7"), ("2.4", "2.0"), ("2.4", "2.4")]


def _normal(text: str) -> str:
    """containerd 2 dumps TOML strings in single quotes and the sandbox image under pinned_images."""
    return text.replace("'", '"').replace("sandbox_image =", "sandbox =")


def _dump(release: str, config: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return run([str(containerd_binary(release)), "--config", str(config), "config", "dump"], home)


def _files(home: Path, *args: str) -> dict[str, str]:
    return secret_files(render_chart(home, *args))


@pytest.mark.parametrize(("release", "version"), LOADS)
@pytest.mark.parametrize("values", sorted(VARIANTS))
def test_each_containerd_loads_each_variant_with_our_settings(tmp_path: Path, release: str, version: str,
                                                              values: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(_files(tmp_path, "-f", str(CHART / "ci" / values), "--set-string",
                             f"containerdVersion={version}")["config.toml"])
    result = _dump(release, config, tmp_path)
    assert result.returncode == 0, result.stderr
    dumped = _normal(result.stdout)
    for needle in [*VARIANTS[values], 'config_path = "/etc/containerd/certs.d"', 'default_runtime_name = "runc"']:
        assert needle in dumped, f"{needle!r} missing from containerd {release}'s view of the config"


@pytest.mark.parametrize(("release", "version"), [("1.6", "1.7"), ("2.4", "2.1")])
def test_gpu_nodes_get_the_nvidia_runtime_by_default(tmp_path: Path, release: str, version: str) -> None:
    files = _files(tmp_path, "-f", str(CHART / "ci" / "gpu-values.yaml"), "--set-string", f"containerdVersion={version}")
    for key, default in (("config-gpu.toml", "nvidia"), ("config.toml", "runc")):
        config = tmp_path / key
        config.write_text(files[key])
        dumped = _normal(_dump(release, config, tmp_path).stdout)
        assert f'default_runtime_name = "{default}"' in dumped
        assert ('BinaryName = "/usr/bin/nvidia-container-runtime"' in dumped) == (default == "nvidia")
        assert "SystemdCgroup = false" in dumped
    assert "skip_verify = true" in files["hosts_registry.tke.local.toml"]


def test_a_format_the_node_cannot_read_loses_every_setting(tmp_path: Path) -> None:
    """The oracle has teeth, and containerdVersion matters: containerd 1.6 reads a version 3 file
    without complaint but ignores its CRI sections, so the dump has none of our settings."""
    config = tmp_path / "config.toml"
    config.write_text(_files(tmp_path, "--set-string", "containerdVersion=2.0", "--set", "systemdCgroup=false")[
        "config.toml"])
    result = _dump("1.6", config, tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'config_path = "/etc/containerd/certs.d"' not in _normal(result.stdout)


def test_real_containerd_rejects_what_it_cannot_parse(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    rendered = _files(tmp_path)["config.toml"]
    assert "max_concurrent_downloads = 3" in rendered
    config.write_text(rendered.replace("max_concurrent_downloads = 3", 'max_concurrent_downloads = "three"'))
    for release in ("1.6", "2.4"):
        assert _dump(release, config, tmp_path).returncode != 0


@pytest.mark.parametrize(("release", "version"), [("1.6", "1.7"), ("2.4", "2.0"), ("2.4", "2.4")])
def test_a_daemon_started_on_the_file_serves_cri(tmp_path: Path, release: str, version: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(_files(tmp_path, "-f", str(CHART / "ci" / "mirrors-values.yaml"), "--set-string",
                             f"containerdVersion={version}")["config.toml"])
    daemon = ContainerdDaemon(containerd_binary(release), config, tmp_path / "daemon")
    try:
        daemon.start()
        assert cri_status(daemon.socket, tmp_path) == "ok", (daemon.folder / "containerd.log").read_text()[-3000:]
    finally:
        daemon.stop()


def test_a_file_config_dump_accepts_can_still_break_cri(tmp_path: Path) -> None:
    """Why the installer's health check asks the restarted daemon for its CRI plugin: a snapshotter the
    node lacks passes `config dump` and fails CRI at start."""
    config = tmp_path / "config.toml"
    config.write_text(_files(tmp_path, "--set", "snapshotter=zfs")["config.toml"])
    assert _dump("1.6", config, tmp_path).returncode == 0
    daemon = ContainerdDaemon(containerd_binary("1.6"), config, tmp_path / "daemon")
    try:
        daemon.start()
        assert cri_status(daemon.socket, tmp_path) == "error"
    finally:
        daemon.stop()


def _hosts_dir(files: dict[str, str], root: Path) -> Path:
    """certs.d as the installer lays it out from the Secret's hosts_*.toml keys."""
    for key, text in files.items():
        if key.startswith("hosts_"):
            name = key.removeprefix("hosts_").removesuffix(".toml")
            folder = root / (name if name == "_default" else name.replace("_", ":"))
            folder.mkdir(parents=True)
            (folder / "hosts.toml").write_text(text)
    return root


def _push_chart(registry: RegistryServer, home: Path) -> str:
    helm = str(require_helm())
    packaged = run([helm, "package", str(CHART), "--destination", str(home)], home)
    assert packaged.returncode == 0, packaged.stderr
    archive = next(home.glob("containerd-config-*.tgz"))
    pushed = run([helm, "push", str(archive), registry.oci("mirrored"), "--ca-file", str(registry.ca_file)], home)
    assert pushed.returncode == 0, pushed.stderr
    return archive.name.removeprefix("containerd-config-").removesuffix(".tgz")


def _fetch(hosts: Path, ref: str, home: Path) -> subprocess.CompletedProcess[str]:
    """`ctr content fetch` through the hosts directory, on a daemon of its own."""
    config = home / "fetch-config.toml"
    config.write_text("version = 2\n")
    daemon = ContainerdDaemon(containerd_binary("1.6"), config, home / "fetch-daemon")
    try:
        daemon.start()
        return run([str(ctr_binary()), "--address", str(daemon.socket), "content", "fetch", "--hosts-dir",
                    str(hosts), ref], home, timeout=60)
    finally:
        daemon.stop()


def test_pulls_go_through_the_mirror_hosts_toml_names(tmp_path: Path,
                                                      fresh_registry: Any) -> None:
    """docker.io is unreachable here: the pull succeeds only through the mirror (a TLS registry with a
    self-signed certificate, so only when the mirror's host is listed insecure)."""
    registry = fresh_registry("tls")
    version = _push_chart(registry, tmp_path)
    ref = f"docker.io/mirrored/containerd-config:{version}"
    mirror = ["--set", f"registry.mirrors.docker\\.io[0]=https://{registry.host}"]
    trusted = _hosts_dir(_files(tmp_path, *mirror, "--set", f"registry.insecureSkipVerifyHosts[0]={registry.host}"),
                         tmp_path / "trusted")
    fetched = _fetch(trusted, ref, tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    unverified = _hosts_dir(_files(tmp_path, *mirror), tmp_path / "verified")
    refused = _fetch(unverified, ref, tmp_path)
    assert refused.returncode != 0
    assert "certificate" in refused.stderr


def test_global_registry_moves_the_sandbox_image(tmp_path: Path) -> None:
    assert 'sandbox_image = "reg.local/pause:3.10"' in _files(tmp_path, "--set", "global.imageRegistry=reg.local")[
        "config.toml"]


def test_credentials_stay_out_of_config_maps_and_existing_secrets_are_mounted(tmp_path: Path) -> None:
    docs = render_chart(tmp_path, "-f", str(CHART / "ci" / "mirrors-values.yaml"))
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"] == ["nodes-containerd-config-scripts"]
    scripts = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    assert "s3cr" not in "".join(scripts.values())
    toml = secret_files(docs)["config.toml"]
    assert 'password = "s3cr\\"et"' in toml
    assert 'auth = "@@AUTH_0@@"' in toml
    daemonset = next(d for d in docs if d["kind"] == "DaemonSet")
    volumes = {v["name"]: v for v in daemonset["spec"]["template"]["spec"]["volumes"]}
    source = volumes["auth"]["projected"]["sources"][0]["secret"]
    assert source == {"name": "reg-example-auth", "items": [{"key": "auth", "path": "AUTH_0"}]}


def test_gpu_nodes_get_their_own_daemonset_and_the_others_exclude_them(tmp_path: Path) -> None:
    docs = render_chart(tmp_path, "-f", str(CHART / "ci" / "gpu-values.yaml"))
    sets = {d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in docs if d["kind"] == "DaemonSet"}
    assert set(sets) == {"nodes-containerd-config", "nodes-containerd-config-gpu"}
    gpu = sets["nodes-containerd-config-gpu"]
    assert gpu["nodeSelector"]["nvidia-device-enable"] == "enable"
    key = next(e["value"] for e in gpu["initContainers"][0]["env"] if e["name"] == "CONFIG_KEY")
    assert key == "config-gpu.toml"
    terms = sets["nodes-containerd-config"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [{"matchExpressions": [
        {"key": "nvidia-device-enable", "operator": "NotIn", "values": ["enable"]}]}]


@pytest.mark.parametrize("bad", ["1.4", "3", "two"])
def test_a_containerd_version_the_chart_cannot_serve_is_refused(tmp_path: Path, bad: str) -> None:
    result = run([str(require_helm()), "template", "n", str(CHART), "--set-string", f"containerdVersion={bad}"],
                 tmp_path)
    assert result.returncode != 0
    assert "containerdVersion" in result.stderr

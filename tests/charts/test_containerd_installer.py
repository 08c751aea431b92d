"""The containerd-config installer script, run for real: a throw-away node root with a fake service
manager (containerd.service) that starts the real containerd binary, which also validates the new file.
The restart lock runs against the real kube-apiserver with the chart's own Role."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.containerd import (
    CHART,
    FakeNode,
    cri_status,
    render_chart,
    secret_files,
)
from tests.support.control_plane import ControlPlane

pytestmark = [pytest.mark.helm, pytest.mark.containerd]

INSTALL = CHART / "files" / "install.sh"
LOCK = CHART / "files" / "lock.sh"


def _source(folder: Path, *args: str) -> Path:
    """The chart's Secret files, as the DaemonSet mounts them at /config."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, text in secret_files(render_chart(folder, "--set", "snapshotter=native", *args)).items():
        (folder / key).write_text(text)
    return folder


def _step(script: Path, verb: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/sh", str(script), verb], capture_output=True, text=True, env=env,  # noqa: S603
                          timeout=120, check=False)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[FakeNode]:
    """A node running containerd 1.6 on a working config the installer did not write."""
    fake = FakeNode.create("node-a", tmp_path / "node-a", "1.6", tmp_path / "restarts.log")
    fake.config.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  snapshotter = "native"\n')
    fake.start_containerd()
    assert cri_status(fake.socket, tmp_path) == "ok"
    yield fake
    fake.stop_containerd()


def test_a_new_config_is_validated_switched_and_containerd_restarted_healthy(tmp_path: Path, node: FakeNode) -> None:
    original = node.config.read_bytes()
    before = node.containerd_pid()
    env = node.env(_source(tmp_path / "src", "--set", "systemdCgroup=false", "--set",
                           "registry.mirrors.docker\\.io[0]=https://mirror.example.com"))
    prepared = _step(INSTALL, "prepare", env)
    assert prepared.returncode == 0, prepared.stderr
    assert (node.root / "stage" / "state").read_text().strip() == "config"
    switched = _step(INSTALL, "switch", env)
    assert switched.returncode == 0, switched.stderr
    assert "healthy" in switched.stdout
    assert "SystemdCgroup = false" in node.config.read_text()
    assert (node.root / "etc/containerd/config.toml.orig").read_bytes() == original
    assert 'host."https://mirror.example.com"' in (node.root / "etc/containerd/certs.d/docker.io/hosts.toml").read_text()
    assert node.containerd_pid() not in (None, before)
    assert cri_status(node.socket, tmp_path) == "ok"
    again = _step(INSTALL, "prepare", env)
    assert again.returncode == 0
    assert (node.root / "stage" / "state").read_text().strip() == "unchanged"


def test_a_config_the_nodes_containerd_rejects_changes_nothing(tmp_path: Path, node: FakeNode) -> None:
    source = _source(tmp_path / "src")
    broken = (source / "config.toml").read_text().replace("max_concurrent_downloads = 3",
                                                        'max_concurrent_downloads = "three"')
    (source / "config.toml").write_text(broken)
    original = node.config.read_bytes()
    pid = node.containerd_pid()
    result = _step(INSTALL, "prepare", node.env(source))
    assert result.returncode == 1
    assert "rejects the new config.toml, so nothing was changed" in result.stderr
    assert node.config.read_bytes() == original
    assert not (node.root / "etc/containerd/config.toml.candidate").exists()
    assert node.containerd_pid() == pid


def test_containerd_unhealthy_after_the_switch_gets_the_previous_file_back(tmp_path: Path, node: FakeNode) -> None:
    """zfs passes `config dump` but the node has no zfs, so CRI fails at start: the health check sees it,
    the previous file is restored, containerd restarted healthy on it, and the pod fails."""
    env = node.env(_source(tmp_path / "src", "--set", "snapshotter=zfs"), health_timeout=6)
    original = node.config.read_bytes()
    assert _step(INSTALL, "prepare", env).returncode == 0
    result = _step(INSTALL, "switch", env)
    assert result.returncode == 1
    assert "previous config.toml is restored and containerd is healthy again" in result.stderr
    assert node.config.read_bytes() == original
    assert cri_status(node.socket, tmp_path) == "ok"


def test_registry_hosts_alone_change_without_a_restart(tmp_path: Path, node: FakeNode) -> None:
    env = node.env(_source(tmp_path / "one", "--set", "registry.mirrors.docker\\.io[0]=https://a.example.com"))
    assert _step(INSTALL, "prepare", env).returncode == 0
    assert _step(INSTALL, "switch", env).returncode == 0
    pid = node.containerd_pid()
    env = node.env(_source(tmp_path / "two", "--set", "registry.mirrors.quay\\.io[0]=https://q.example.com"))
    assert _step(INSTALL, "prepare", env).returncode == 0
    assert (node.root / "stage" / "state").read_text().strip() == "hosts"
    switched = _step(INSTALL, "switch", env)
    assert switched.returncode == 0, switched.stderr
    certs = node.root / "etc/containerd/certs.d"
    assert (certs / "quay.io/hosts.toml").exists()
    assert not (certs / "docker.io").exists(), "a folder the previous revision wrote must go"
    assert node.containerd_pid() == pid


def test_a_hosts_folder_someone_else_wrote_is_kept(tmp_path: Path, node: FakeNode) -> None:
    mine = node.root / "etc/containerd/certs.d/reg.example.com"
    mine.mkdir(parents=True)
    (mine / "hosts.toml").write_text('server = "https://reg.example.com"\n')
    env = node.env(_source(tmp_path / "src", "--set", "registry.mirrors.docker\\.io[0]=https://a.example.com"))
    assert _step(INSTALL, "prepare", env).returncode == 0
    assert _step(INSTALL, "switch", env).returncode == 0
    env = node.env(_source(tmp_path / "none"))
    assert _step(INSTALL, "prepare", env).returncode == 0
    assert _step(INSTALL, "switch", env).returncode == 0
    assert (mine / "hosts.toml").exists()
    assert not (node.root / "etc/containerd/certs.d/docker.io").exists()


@pytest.mark.parametrize("distribution", ["k3s", "rke2"])
def test_k3s_and_rke2_nodes_are_refused_untouched(tmp_path: Path, distribution: str) -> None:
    fake = FakeNode.create("edge", tmp_path / "edge", "1.6", tmp_path / "restarts.log", systemd_unit=False)
    (fake.root / f"var/lib/rancher/{distribution}/agent/etc/containerd").mkdir(parents=True)
    fake.config.write_text("version = 2\n")
    result = _step(INSTALL, "prepare", fake.env(_source(tmp_path / "src")))
    assert result.returncode == 1
    assert "k3s/RKE2" in result.stderr and "Nothing was changed" in result.stderr
    assert fake.config.read_text() == "version = 2\n"
    assert not (fake.root / "stage" / "state").exists()


def test_a_node_without_containerd_service_is_refused(tmp_path: Path) -> None:
    fake = FakeNode.create("bare", tmp_path / "bare", "1.6", tmp_path / "restarts.log", systemd_unit=False)
    result = _step(INSTALL, "prepare", fake.env(_source(tmp_path / "src")))
    assert result.returncode == 1
    assert "no containerd.service" in result.stderr


def test_existing_secret_credentials_are_substituted_and_checked(tmp_path: Path, node: FakeNode) -> None:
    source = _source(tmp_path / "src", "--set", "registry.auths.reg\\.example\\.com.existingSecret.name=auth")
    (node.root / "auth").mkdir()
    (node.root / "auth" / "AUTH_0").write_text("dXNlcjpwYXNz\n")
    env = node.env(source)
    assert _step(INSTALL, "prepare", env).returncode == 0
    assert 'auth = "dXNlcjpwYXNz"' in (node.root / "stage/new/config.toml").read_text()
    (node.root / "auth" / "AUTH_0").write_text("user:pass; rm -rf /\n")
    refused = _step(INSTALL, "prepare", env)
    assert refused.returncode == 1
    assert "not base64" in refused.stderr


# --- the restart lock, against the real API server ------------------------------------------------------

NAMESPACE = "containerd-lock"


def _lock_env(plane: ControlPlane, token: Path, pod: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"LOCK_NAME": "nodes-containerd-config-restart", "NAMESPACE": NAMESPACE, "POD_NAME": pod,
            "API": plane.server, "TOKEN_FILE": str(token), "CA_FILE": str(plane.ca), "POLL_SECONDS": "0.3",
            "STALE_SECONDS": "600", **(extra or {})}


@pytest.fixture(scope="module")
def lock_plane(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ControlPlane, Path]]:
    """The chart's ServiceAccount, Role and RoleBinding in a namespace of the real API server, and a token
    of that ServiceAccount (TokenRequest), as the pod's projected volume would hold it."""
    home = tmp_path_factory.mktemp("lock")
    control_plane.api_create("/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
    for doc in render_chart(home, "--namespace", NAMESPACE):
        if doc["kind"] in ("ServiceAccount", "Role", "RoleBinding"):
            group = "/api/v1" if doc["kind"] == "ServiceAccount" else "/apis/rbac.authorization.k8s.io/v1"
            control_plane.api_create(f"{group}/namespaces/{NAMESPACE}/{doc['kind'].lower()}s", doc)
    answer = control_plane.api_create(
        f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/nodes-containerd-config/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}})
    token = home / "token"
    token.write_text(answer["status"]["token"])
    yield control_plane, token
    control_plane.api_delete(f"/api/v1/namespaces/{NAMESPACE}")


def _pod(plane: ControlPlane, name: str) -> None:
    plane.api_create(f"/api/v1/namespaces/{NAMESPACE}/pods", {
        "metadata": {"name": name}, "spec": {"containers": [{"name": "hold", "image": "registry.k8s.io/pause:3.10"}]}})


def _lease(plane: ControlPlane) -> str:
    return f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases/nodes-containerd-config-restart"


@pytest.mark.cluster
def test_two_nodes_restart_containerd_one_after_the_other(tmp_path: Path,
                                                          lock_plane: tuple[ControlPlane, Path]) -> None:
    """Both pods start at once, as on a first install; the Lease makes the second wait until the first
    node's containerd is back and healthy, and is gone afterwards."""
    plane, token = lock_plane
    log = tmp_path / "restarts.log"
    runs = []
    nodes = []
    for name in ("node-a", "node-b"):
        fake = FakeNode.create(name, tmp_path / name, "1.6", log)
        fake.config.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  snapshotter = "native"\n')
        fake.start_containerd()
        nodes.append(fake)
        _pod(plane, f"{name}-pod")
        env = {**fake.env(_source(tmp_path / f"src-{name}", "--set", "systemdCgroup=false")),
               **_lock_env(plane, token, f"{name}-pod", {"RESTART_DELAY": "2"})}
        script = (f"/bin/sh {INSTALL} prepare && /bin/sh {LOCK} acquire && /bin/sh {INSTALL} switch "
                  f"&& /bin/sh {LOCK} release")
        runs.append(subprocess.Popen(["/bin/sh", "-c", script], env=env, stdout=subprocess.PIPE,  # noqa: S603
                                     stderr=subprocess.STDOUT, text=True))
    try:
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        assert any("waiting: node node-" in out for out in outputs), outputs
        spans: dict[str, list[float]] = {}
        for line in log.read_text().splitlines():
            what, name, when = line.split()
            spans.setdefault(name, []).append(float(when))
        (a_start, a_end), (b_start, b_end) = sorted(spans.values())
        assert a_end <= b_start, f"restarts overlap: {spans}"
        assert not plane.api_exists(_lease(plane))
    finally:
        for fake in nodes:
            fake.stop_containerd()


@pytest.mark.cluster
def test_a_lock_whose_holder_pod_is_gone_is_taken_over(tmp_path: Path, lock_plane: tuple[ControlPlane, Path]) -> None:
    plane, token = lock_plane
    plane.api_create(f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases", {
        "metadata": {"name": "nodes-containerd-config-restart",
                     "annotations": {"tke-catalog.io/node": "node-x", "tke-catalog.io/acquired": str(int(time.time()))}},
        "spec": {"holderIdentity": "crashed-pod"}})
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "state").write_text("config\n")
    env = {"PATH": "/usr/bin:/bin", "NODE_NAME": "node-c", "STAGE": str(stage), **_lock_env(plane, token, "node-c-pod")}
    _pod(plane, "node-c-pod")
    acquired = _step(LOCK, "acquire", env)
    assert acquired.returncode == 0, acquired.stderr
    assert "its holder pod crashed-pod is gone" in acquired.stdout
    assert '"holderIdentity":"node-c-pod"' in plane._request("GET", _lease(plane)).text
    assert _step(LOCK, "release", env).returncode == 0
    assert not plane.api_exists(_lease(plane))


@pytest.mark.cluster
def test_a_token_without_the_role_is_told_what_rbac_is_missing(tmp_path: Path,
                                                               lock_plane: tuple[ControlPlane, Path]) -> None:
    plane, _ = lock_plane
    plane.api_create(f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts", {"metadata": {"name": "stranger"}})
    answer = plane.api_create(f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/stranger/token",
                              {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}})
    token = tmp_path / "token"
    token.write_text(answer["status"]["token"])
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "state").write_text("config\n")
    env = {"PATH": "/usr/bin:/bin", "NODE_NAME": "node-d", "STAGE": str(stage), **_lock_env(plane, token, "node-d-pod")}
    refused = _step(LOCK, "acquire", env)
    assert refused.returncode == 1
    assert "refused the lock (403)" in refused.stderr and "leases" in refused.stderr

"""The containerd-config chart's files and real containerd daemons for the tests.

`render_chart` runs the real helm on the chart; `secret_files` decodes the Secret it renders (config.toml,
config-gpu.toml, hosts_*.toml); `ContainerdDaemon` runs a real containerd (Debian's 1.6 or 2.x built by
setup) on a throw-away root, state and socket, and `cri_status` asks it, with the real `ctr`, whether its
CRI plugin loaded."""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.support.process import binary
from tests.support.registry_fixtures import require_helm

CHART = Path(__file__).resolve().parents[2] / "charts" / "platform" / "containerd-config"
CONTAINERDS = {"1.6": "containerd", "2.4": "containerd2"}
"""Our containerd binaries by release: Debian bookworm's 1.6 and 2.4 built from the Go module proxy."""

_CRI = re.compile(r"^io\.containerd\.grpc\.v1\s+cri\s+\S+\s+(\S+)\s*$", re.MULTILINE)


def tool_env(home: Path) -> dict[str, str]:
    """An environment for helm and containerd that keeps their state under `home`."""
    return {"HELM_CACHE_HOME": str(home / "cache"), "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"), "PATH": "/usr/bin:/bin"}


def run(argv: list[str], home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=tool_env(home), timeout=timeout,  # noqa: S603
                          check=False)


def render_chart(home: Path, *args: str) -> list[dict[str, Any]]:
    """The chart's objects as the real `helm template` renders them."""
    result = run([str(require_helm()), "template", "nodes", str(CHART), "--namespace", "kube-system", *args], home)
    assert result.returncode == 0, result.stderr
    return [doc for doc in YAML(typ="safe").load_all(result.stdout) if doc]


def secret_files(docs: list[dict[str, Any]]) -> dict[str, str]:
    """The files of the chart's Secret, decoded."""
    secret = next(d for d in docs if d["kind"] == "Secret")
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def containerd_binary(release: str) -> Path:
    path = binary(CONTAINERDS[release])
    if path is None:
        pytest.skip(f"containerd {release} not found (scripts/setup.sh containerd builds it)")
    return path


def ctr_binary() -> Path:
    path = binary("ctr")
    if path is None:
        pytest.skip("ctr not found (scripts/setup.sh containerd extracts it)")
    return path


def cri_status(socket: Path, home: Path) -> str | None:
    """The CRI plugin's status ("ok", "error", ...) as the daemon on `socket` reports it; None when it
    does not answer."""
    result = run([str(ctr_binary()), "--address", str(socket), "plugins", "ls"], home, timeout=20)
    if result.returncode != 0:
        return None
    found = _CRI.search(result.stdout)
    return found.group(1) if found else None


@dataclass
class ContainerdDaemon:
    """A real containerd on a private root, state and socket under `folder`."""

    binary: Path
    config: Path
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.folder / "containerd.sock"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "containerd.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                ["timeout", "300", str(self.binary), "--config", str(self.config), "--root",
                 str(self.folder / "root"), "--state", str(self.folder / "state"), "--address", str(self.socket)],
                stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and cri_status(self.socket, self.folder) is None:
            if self.process.poll() is not None:
                break
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None


_HOSTEXEC = """#!/bin/bash
# The fake node's "nsenter into the host": host paths map into the throw-away root.
args=()
for a in "$@"; do
  case "$a" in /etc/containerd*|/var/lib/rancher*|/etc/systemd*) a="$FAKE_ROOT$a" ;; esac
  args+=("$a")
done
PATH="$FAKE_ROOT/bin:$PATH" exec "${args[@]}"
"""

_SYSTEMCTL = """#!/bin/bash
# A fake service manager for one unit, containerd.service, running the real containerd binary.
pidfile="$FAKE_ROOT/run/containerd.pid"
alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
case "$1" in
  cat) [ -f "$FAKE_ROOT/etc/systemd/system/${2%.service}.service" ] && cat "$FAKE_ROOT/etc/systemd/system/${2%.service}.service" ;;
  is-active) alive ;;
  restart)
    echo "start $FAKE_NODE $(date +%s.%N)" >> "$RESTART_LOG"
    if alive; then kill "$(cat "$pidfile")"; while alive; do sleep 0.1; done; fi
    sleep "${RESTART_DELAY:-0}"
    setsid timeout 300 "$FAKE_ROOT/bin/containerd" --config "$FAKE_ROOT/etc/containerd/config.toml" \\
      --root "$FAKE_ROOT/var/lib/containerd" --state "$FAKE_ROOT/run/containerd" \\
      --address "$FAKE_ROOT/run/containerd.sock" >> "$FAKE_ROOT/containerd.log" 2>&1 &
    echo $! > "$pidfile"
    # Wait for the socket, as systemd waits for a Type=notify unit.
    for _ in $(seq 100); do [ -S "$FAKE_ROOT/run/containerd.sock" ] && break; sleep 0.1; done
    echo "end $FAKE_NODE $(date +%s.%N)" >> "$RESTART_LOG"
    ;;
  stop) if alive; then kill "$(cat "$pidfile")"; fi ;;
  *) echo "fake systemctl: unsupported $*" >&2; exit 2 ;;
esac
"""


@dataclass
class FakeNode:
    """A throw-away node root: /etc/containerd, a fake systemd with containerd.service, the real
    containerd and ctr binaries, and the installer's environment pointing at all of it."""

    name: str
    root: Path
    release: str
    restart_log: Path

    @classmethod
    def create(cls, name: str, root: Path, release: str, restart_log: Path, *, systemd_unit: bool = True) -> FakeNode:
        (root / "bin").mkdir(parents=True)
        (root / "etc" / "containerd").mkdir(parents=True)
        (root / "run").mkdir()
        if systemd_unit:
            (root / "etc" / "systemd" / "system").mkdir(parents=True)
            (root / "etc" / "systemd" / "system" / "containerd.service").write_text("[Service]\nExecStart=containerd\n")
        for script, text in (("hostexec", _HOSTEXEC), ("systemctl", _SYSTEMCTL)):
            (root / "bin" / script).write_text(text)
            (root / "bin" / script).chmod(0o755)
        (root / "bin" / "containerd").symlink_to(containerd_binary(release))
        (root / "bin" / "ctr").symlink_to(ctr_binary())
        return cls(name, root, release, restart_log)

    @property
    def config(self) -> Path:
        return self.root / "etc" / "containerd" / "config.toml"

    @property
    def socket(self) -> Path:
        return self.root / "run" / "containerd.sock"

    def env(self, source: Path, *, config_key: str = "config.toml", restart: bool = True,
            health_timeout: int = 15, extra: dict[str, str] | None = None) -> dict[str, str]:
        stage = self.root / "stage"
        stage.mkdir(exist_ok=True)
        return {
            "PATH": "/usr/bin:/bin", "FAKE_ROOT": str(self.root), "FAKE_NODE": self.name,
            "RESTART_LOG": str(self.restart_log), "NODE_NAME": self.name, "SOURCE": str(source),
            "AUTH_DIR": str(self.root / "auth"), "CONFIG_KEY": config_key, "STAGE": str(stage),
            "HOST_DIR": str(self.root / "etc" / "containerd"), "HOST_CONFIG_DIR": "/etc/containerd",
            "HOST_EXEC": str(self.root / "bin" / "hostexec"), "RESTART": "true" if restart else "false",
            "HEALTH_TIMEOUT": str(health_timeout), "CONTAINERD_SOCKET": str(self.socket), **(extra or {}),
        }

    def start_containerd(self) -> None:
        subprocess.run([str(self.root / "bin" / "systemctl"), "restart", "containerd"], check=True,  # noqa: S603
                       env={"PATH": "/usr/bin:/bin", "FAKE_ROOT": str(self.root), "FAKE_NODE": self.name,
                            "RESTART_LOG": str(self.root / "boot.log")}, timeout=60)

    def containerd_pid(self) -> int | None:
        pidfile = self.root / "run" / "containerd.pid"
        if not pidfile.exists():
            return None
        pid = int(pidfile.read_text())
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def stop_containerd(self) -> None:
        pid = self.containerd_pid()
        if pid is not None:
            os.killpg(os.getpgid(pid), signal.SIGTERM)

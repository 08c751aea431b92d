"""Start and stop the local servers the tests use: free loopback ports, readiness polling, and
stopping exactly the process that was started (never by name)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

CACHE = Path(os.environ.get("TKE_CATALOG_CACHE", Path.home() / ".cache" / "tke-catalog"))
BIN = CACHE / "bin"


def binary(name: str) -> Path | None:
    """The cached binary built by scripts/setup.sh, or one on PATH; None when there is neither."""
    cached = BIN / name
    if cached.is_file() and os.access(cached, os.X_OK):
        return cached
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / name
        if folder and candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """One child process with its log file; `stop()` ends exactly this process group."""

    def __init__(self, name: str, argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = log
        self._log_handle = log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - argv is ours
            list(argv), stdin=subprocess.DEVNULL, stdout=self._log_handle, stderr=subprocess.STDOUT,
            env=env, start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_until(self, ready: Callable[[], bool], timeout: float = 60.0, interval: float = 0.1) -> None:
        """Poll `ready` until it is true; fail with the log's tail if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(interval)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f}s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill_hard(self) -> None:
        """SIGKILL the process group at once (fault injection)."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._log_handle.close()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM this process group, then SIGKILL after `timeout`."""
        if self.alive():
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
            except ProcessLookupError:
                pass
        self._log_handle.close()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0

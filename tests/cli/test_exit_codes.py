"""Every exit code of the table in toolkit.errors, driven through the real `python -m toolkit` process,
and the README's table kept equal to it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.publish.conftest import (
    chart_files,
    cli_env,
    cli_registry_args,
    make_charts,
    write_chart,
)
from tests.support.registry import RegistryServer
from toolkit.cli import cli
from toolkit.errors import (
    EXIT_CHANGES,
    EXIT_CODES,
    EXIT_CONFLICT,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OPERATIONAL,
    EXIT_USAGE,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "cluster.yaml")
FIXTURES = ROOT / "tests" / "fixtures" / "clusters"


def tke(*args: str, env: dict[str, str] | None = None, process: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the CLI: in-process through the same `main` mapping (fast), or as a real process."""
    if process:
        return subprocess.run([sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, **(env or {})}, timeout=120, check=False)
    result = CliRunner().invoke(cli, list(args), env=env)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def kubeconfig(tmp_path: Path, server: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{server}", insecure-skip-tls-verify: true}}}}]
users: [{{name: u, user: {{token: t}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
""")
    return path


def test_the_readme_table_is_the_code_table() -> None:
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- exit-codes", 1)[1].split("<!-- /exit-codes -->", 1)[0]
    rows = dict(re.findall(r"^\| `(\d+)` \| (.+) \|$", block, flags=re.M))
    assert {int(code): meaning for code, meaning in rows.items()} == EXIT_CODES


def test_0_ok() -> None:
    result = tke("plan", EXAMPLE, process=True)
    assert result.returncode == EXIT_OK, result.stderr


def test_1_operational_a_cluster_that_does_not_answer(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path, "https://127.0.0.1:1")
    result = tke("apply", EXAMPLE, "--kubeconfig", str(config), "--yes")
    assert result.returncode == EXIT_OPERATIONAL
    assert "cannot reach the API server" in result.stderr and "Traceback" not in result.stderr


def test_2_changes_pending_only_with_detailed_exitcode() -> None:
    assert tke("plan", EXAMPLE, "--detailed-exitcode").returncode == EXIT_CHANGES
    assert tke("plan", EXAMPLE).returncode == EXIT_OK


def test_3_invalid_input() -> None:
    result = tke("plan", str(FIXTURES / "misspelled-field.yaml"))
    assert result.returncode == EXIT_INPUT and "error" in result.stderr
    assert tke("plan", "no-such-cluster.yaml").returncode == EXIT_INPUT


@pytest.mark.parametrize("args", [
    ["plan", "missing.yaml"], ["validate", "missing.yaml"], ["apply", "missing.yaml", "--yes"],
    ["apps", "remove", "missing.yaml", "x"], ["images", "missing.yaml"], ["scheduler-config", "missing.yaml"],
    ["build", "missing-folder"], ["lint", "missing-folder"], ["publish", "missing-folder", "--registry", "oci://127.0.0.1:1/x"],
    ["deps", "build", "missing-folder"],
])
def test_3_a_missing_input_file_is_invalid_input_for_every_verb(args: list[str]) -> None:
    result = tke(*args)
    assert result.returncode == EXIT_INPUT, (args, result.stdout, result.stderr)
    missing = next(a for a in args if a.startswith("missing"))
    assert f"{missing}: no such" in result.stderr


def test_debug_works_after_the_verb_too() -> None:
    after = tke("plan", "missing.yaml", "--debug")
    assert after.returncode != EXIT_USAGE and "No such option" not in after.stderr
    # --debug shows the traceback instead of the one-line message
    assert "Traceback" in tke("plan", "missing.yaml", "--debug", process=True).stderr


@pytest.mark.registry
def test_4_conflict_a_published_version_with_other_content(registry: RegistryServer, tmp_path: Path) -> None:
    (folder,) = make_charts(tmp_path, ("delta",))
    args = ["publish", "--root", str(tmp_path), "--registry", registry.oci("exit-codes"), *cli_registry_args(registry)]
    env = {k: v for k, v in cli_env(registry, tmp_path).items() if v is not None}
    assert tke(*args, env=env).returncode == EXIT_OK
    write_chart(folder, chart_files("delta", greeting="changed"))
    result = tke(*args, "--dry-run", env=env)
    assert result.returncode == EXIT_CONFLICT and "bump" in result.stderr


@pytest.mark.parametrize("args", [
    ["plan", EXAMPLE, "--no-such-flag"],
    ["no-such-verb"],
    ["plan"],
    ["plan", EXAMPLE, "--context", "x", "--state", "state.json"],
])
def test_64_usage(args: list[str]) -> None:
    result = tke(*args, process=args == ["no-such-verb"])
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "Traceback" not in result.stderr


def test_64_a_named_root_that_is_no_project(tmp_path: Path) -> None:
    assert tke("plan", EXAMPLE, env={"TKE_CATALOG_ROOT": str(tmp_path / "nowhere")}).returncode == EXIT_USAGE
    assert tke("lint", env={"TKE_CATALOG_ROOT": str(tmp_path / "nowhere")}).returncode == EXIT_USAGE


@pytest.fixture
def silent_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """A TCP server on 127.0.0.1 that accepts and never answers: a request to it hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.getsockname()[1]}", held
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def test_130_interrupted(tmp_path: Path, silent_server: tuple[str, list[socket.socket]]) -> None:
    server, connections = silent_server
    config = kubeconfig(tmp_path, server)
    process = subprocess.Popen([sys.executable, "-m", "toolkit", "plan", EXAMPLE, "--kubeconfig", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 30
    while not connections and time.monotonic() < deadline:  # started, and waiting on the silent API server
        time.sleep(0.05)
    assert connections, "the plan never reached the API server"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "interrupted" in err and "re-run" in err and "Traceback" not in err

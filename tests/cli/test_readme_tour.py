"""The README's tour, run as written: every `$ ` command of the "A tour" section, in order, in a copy of
the project, against a real registry and API server (the README's `127.0.0.1:5000` and `kubeconfig`
stand for them). What the README shows after each command must be what the command prints: `...`
stands for lines left out, digests and clock times are compared by shape; a command whose shown
output has no `error:` line must exit 0."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.control_plane import ControlPlane
from tests.support.process import BIN
from tests.support.registry import RegistryServer, start_registry

pytestmark = [pytest.mark.cluster, pytest.mark.helm, pytest.mark.registry]

ROOT = Path(__file__).resolve().parents[2]
README_HOST = "127.0.0.1:5000"
_SHAPES = [
    (re.compile(r"sha256:[0-9a-f]{64}"), "sha256:<digest>"),
    (re.compile(r"\[\d\d:\d\d:\d\d\]"), "[hh:mm:ss]"),
    (re.compile(r"\bin \d+\.\d+s\b"), "in <n>s"),
    (re.compile(r"https://127\.0\.0\.1:\d+"), "https://127.0.0.1:<port>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"\(/\S+/helm\)"), "(<helm>)"),
]


def tour_steps(readme: str) -> list[tuple[str, list[str]]]:
    """(command, shown output lines) for every `$ ` line in the tour's code blocks."""
    section = readme.split("\n## A tour\n", 1)[1].split("\n## ", 1)[0]
    steps: list[tuple[str, list[str]]] = []
    fence: str | None = None  # the open block's language ("" for a shell session), None outside blocks
    for line in section.splitlines():
        if line.startswith("```"):
            fence = line[3:].strip() if fence is None else None
        elif fence == "" and line.startswith("$ "):
            steps.append((line[2:], []))
        elif fence == "" and steps:
            steps[-1][1].append(line)
    return steps


def shape(line: str) -> str:
    for pattern, replacement in _SHAPES:
        line = pattern.sub(replacement, line)
    return line.rstrip()


def shows(shown: list[str], real: list[str]) -> str | None:
    """None when `real` matches `shown` (`...` skips lines; elsewhere line for line), else why not."""
    want, have = [shape(s) for s in shown], [shape(r) for r in real]
    segments: list[list[str]] = [[]]
    for line in want:
        if line.strip() == "...":
            segments.append([])
        else:
            segments[-1].append(line)
    at = 0
    for index, segment in enumerate(segments):
        if not segment:
            continue
        anchored = index == 0
        found = next((i for i in range(at, len(have) - len(segment) + 1) if have[i:i + len(segment)] == segment), None)
        if found is None or anchored and found != 0:
            return f"not found in order: {segment!r}"
        at = found + len(segment)
    if segments[-1] and at != len(have):
        return f"more lines than shown after {segments[-1][-1]!r}: {have[at:at + 3]!r}"
    return None


def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    steps = tour_steps((ROOT / "README.md").read_text())
    assert len(steps) >= 10, "the tour lost its commands"
    work = tmp_path / "project"
    for folder in ("catalog", "charts", "schemas", "examples", "tests/fixtures/clusters"):
        shutil.copytree(ROOT / folder, work / folder)
    registry: RegistryServer = start_registry(tmp_path / "registry", "plain")
    plane = ControlPlane(tmp_path / "plane", ttl=1800)
    try:
        plane.up()
        shutil.copy(plane.kubeconfig, work / "kubeconfig")
        (work / "kubeconfig").chmod(0o600)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
               "TKE_CATALOG_HELM": str(BIN / "helm"), "TKE_CATALOG_CACHE": str(tmp_path / "cache"),
               "HELM_CONFIG_HOME": str(tmp_path / "helm" / "config"), "HELM_CACHE_HOME": str(tmp_path / "helm" / "cache"),
               "HELM_DATA_HOME": str(tmp_path / "helm" / "data"), "TKE_CATALOG_CONFIG": str(tmp_path / "config.yaml"),
               "SOURCE_DATE_EPOCH": "1764115200", "COLUMNS": "120", "KUBECONFIG": ""}
        # the README's configuration file: the local registry speaks plain HTTP
        (tmp_path / "config.yaml").write_text(f"registries:\n  {registry.host}: {{plainHTTP: true}}\n")
        env.pop("TKE_CATALOG_ROOT", None)
        for command, shown in steps:
            argv = shlex.split(command.replace(README_HOST, registry.host))
            done = subprocess.run(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=600, check=False)
            real = done.stdout.replace(registry.host, README_HOST).splitlines()
            problem = shows(shown, real)
            assert problem is None, f"$ {command}\n{problem}\n--- real output:\n" + "\n".join(real)
            if not any("error:" in line for line in shown):
                assert done.returncode == 0, f"$ {command} exited {done.returncode}\n" + "\n".join(real)
    finally:
        plane.down()
        registry.stop()


def test_the_matcher_can_fail() -> None:
    assert shows(["a", "...", "c"], ["a", "b", "c"]) is None
    assert shows(["a", "c"], ["a", "b", "c"]) is not None
    assert shows(["b"], ["a", "b"]) is not None  # not anchored at the start
    assert shows(["...", "b"], ["a", "b", "c"]) is not None  # lines after the last one shown
    assert shows(["x sha256:" + "a" * 64], ["x sha256:" + "b" * 64]) is None

"""Helpers for the publish/pull tests: small charts, a registry client per server, a counting
transport, an isolated helm, and the CLI with `pull` registered."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.registry import RegistryServer
from tests.support.registry_fixtures import require_helm
from toolkit.actions.build import BuiltChart, build_charts
from toolkit.adapters.registry.client import RegistryClient
from toolkit.adapters.registry.retry import RetryPolicy
from toolkit.adapters.registry.transport import HttpResponse, Urllib3Transport
from toolkit.core.credentials import Credentials

EPOCH = 1700000000


def chart_files(name: str, version: str = "0.1.0", greeting: str = "hello") -> dict[str, str]:
    return {
        "Chart.yaml": f"apiVersion: v2\nname: {name}\ndescription: The {name} test chart.\nversion: {version}\n"
                      "appVersion: \"1.0\"\nannotations:\n  tke-catalog/category: test\n",
        "values.yaml": f"greeting: {greeting}\n",
        "templates/cm.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
                              "data:\n  greeting: {{ .Values.greeting | quote }}\n"),
    }


def write_chart(folder: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def make_charts(root: Path, names: tuple[str, ...] = ("alpha", "beta", "gamma"), **kwargs: str) -> list[Path]:
    return [write_chart(root / "charts" / "addons" / n, chart_files(n, **kwargs)) for n in names]


def build(folders: list[Path]) -> list[BuiltChart]:
    return build_charts(folders, epoch=EPOCH)


@dataclass
class CountingTransport:
    """Wraps the real transport and records every request (method, path) made through it."""

    inner: Urllib3Transport
    calls: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None) -> HttpResponse:
        with self.lock:
            self.calls.append((method, url.split("://", 1)[1].split("/", 1)[1]))
        return self.inner.request(method, url, headers=headers, body=body)

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in ("POST", "PUT", "PATCH", "DELETE")]


def client_for(server: RegistryServer, *, counting: bool = False, password: str | None = None,
               retry: RetryPolicy | None = None) -> tuple[RegistryClient, CountingTransport | None]:
    inner = Urllib3Transport(ca_file=server.ca_file)
    transport: CountingTransport | Urllib3Transport = CountingTransport(inner) if counting else inner
    credentials = (Credentials(server.username, password or server.password or "", "test")
                   if server.username else None)
    client = RegistryClient(server.host, transport=transport, credentials=credentials,
                            plain_http=server.plain_http, retry=retry or RetryPolicy(attempts=3, base_delay=0.05),
                            sleep=lambda _s: None)
    return client, transport if isinstance(transport, CountingTransport) else None


def cli_registry_args(server: RegistryServer) -> list[str]:
    """`--plain-http` / `--ca-file` for the CLI (credentials go through the environment)."""
    if server.plain_http:
        return ["--plain-http"]
    return ["--ca-file", str(server.ca_file)]


def cli_env(server: RegistryServer, tmp_path: Path) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "HELM_REGISTRY_CONFIG": str(tmp_path / "no-helm-config.json"),
        "DOCKER_CONFIG": str(tmp_path / "no-docker"),
        "TKE_CATALOG_REGISTRY_USERNAME": server.username,
        "TKE_CATALOG_REGISTRY_PASSWORD": server.password,
        "SOURCE_DATE_EPOCH": str(EPOCH),
    }
    return env


@dataclass
class Helm:
    """The real helm with its own homes and registry config."""

    exe: Path
    home: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
        env.update(HELM_CONFIG_HOME=str(self.home / "config"), HELM_CACHE_HOME=str(self.home / "cache"),
                   HELM_DATA_HOME=str(self.home / "data"),
                   HELM_REGISTRY_CONFIG=str(self.home / "registry.json"), TZ="UTC")
        return env

    def run(self, *args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(self.exe), *args], env=self.env(), input=stdin, capture_output=True,  # noqa: S603
                                text=True, timeout=120, cwd=cwd)
        assert result.returncode == 0, f"helm {' '.join(args)} failed:\n{result.stderr}"
        return result

    def registry_args(self, server: RegistryServer) -> list[str]:
        if server.plain_http:
            return ["--plain-http"]
        return ["--ca-file", str(server.ca_file)]

    def login(self, server: RegistryServer) -> None:
        if server.username:
            self.run("registry", "login", server.host, "--username", server.username, "--password-stdin",
                     *(["--plain-http"] if server.plain_http else []), stdin=f"{server.password}\n")


@pytest.fixture
def helm(tmp_path: Path) -> Helm:
    return Helm(require_helm(), tmp_path / "helm-home")


@pytest.fixture
def cli_with_pull() -> Iterator[object]:
    """The real CLI group with `pull` registered (until the lead registers it in toolkit/cli)."""
    from toolkit.cli import cli
    from toolkit.cli.pull import pull_command

    added = "pull" not in cli.commands
    if added:
        cli.add_command(pull_command)
    yield cli
    if added:
        cli.commands.pop("pull", None)

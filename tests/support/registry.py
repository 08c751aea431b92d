"""A real OCI registry for the tests and the demo: Debian's docker-registry (CNCF distribution) on a
free 127.0.0.1 port, in three variants: plain HTTP, basic auth (bcrypt htpasswd) and TLS."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt

from tests.support.pki import CertificateAuthority
from tests.support.process import ServerProcess, binary, free_port

VARIANTS = ("plain", "basic", "tls")


@dataclass
class RegistryServer:
    """A running registry: where it listens and how to reach it."""

    variant: str
    host: str
    folder: Path
    process: ServerProcess
    username: str | None = None
    password: str | None = None
    ca_file: Path | None = None
    storage: Path = field(default_factory=Path)

    @property
    def plain_http(self) -> bool:
        return self.variant != "tls"

    @property
    def url(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.host}"

    def oci(self, path: str = "charts") -> str:
        """`oci://HOST:PORT/PATH` as helm and the toolkit take it."""
        return f"oci://{self.host}/{path}"

    def stop(self) -> None:
        self.process.stop()

    def restart(self) -> None:
        """Start the same registry again (same port, storage and credentials) after a stop or kill."""
        self.process = ServerProcess(f"registry-{self.variant}", self.process.process.args,  # type: ignore[arg-type]
                                     self.process.log)
        self.process.wait_until(lambda: _answers(self), timeout=30)


def _answers(server: RegistryServer) -> bool:
    context = ssl.create_default_context(cafile=str(server.ca_file)) if server.ca_file else None
    try:
        with urllib.request.urlopen(f"{server.url}/v2/", timeout=2, context=context) as response:  # noqa: S310
            return bool(response.status == 200)
    except urllib.error.HTTPError as exc:
        return exc.code == 401
    except (urllib.error.URLError, OSError):
        return False


def start_registry(folder: Path, variant: str = "plain", *, ca: CertificateAuthority | None = None,
                   username: str = "ci-user", password: str = "s3cret-Passw0rd") -> RegistryServer:
    """Start one registry variant with its own storage under `folder`; wait until it answers."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    exe = binary("docker-registry") or binary("registry")
    if exe is None:
        raise FileNotFoundError("docker-registry not found: run scripts/setup.sh registry")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    storage = folder / "data"
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "test-only-secret"},
    }
    server_kwargs: dict[str, object] = {}
    if variant == "basic":
        htpasswd = folder / "htpasswd"
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=6)).decode()
        htpasswd.write_text(f"{username}:{hashed}\n")
        config["auth"] = {"htpasswd": {"realm": "tke-catalog-test", "path": str(htpasswd)}}
        server_kwargs = {"username": username, "password": password}
    if variant == "tls":
        ca = ca or CertificateAuthority(folder / "pki")
        pair = ca.serving("registry")
        http = config["http"]
        assert isinstance(http, dict)
        http["tls"] = {"certificate": str(pair.cert), "key": str(pair.key)}
        server_kwargs = {"ca_file": ca.cert}
    config_file = folder / "config.yml"
    config_file.write_text(json.dumps(config, indent=2))  # JSON is YAML
    process = ServerProcess(f"registry-{variant}", [str(exe), "serve", str(config_file)], folder / "registry.log")
    server = RegistryServer(variant, f"127.0.0.1:{port}", folder, process, storage=storage,
                            **server_kwargs)  # type: ignore[arg-type]
    process.wait_until(lambda: _answers(server), timeout=30)
    return server

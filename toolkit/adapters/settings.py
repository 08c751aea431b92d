"""The only module that reads the environment. Everything else gets these values passed in."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from toolkit.adapters.project import resolve_root
from toolkit.core.archive import DEFAULT_EPOCH
from toolkit.errors import UsageError

__all__ = ["Settings", "load_settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Values read once at the edge: where things are, which helm, which fixed time."""

    root: Path
    cache: Path
    helm: str
    source_date_epoch: int
    in_ci: bool
    is_terminal: bool

    @property
    def catalog_file(self) -> Path:
        return self.root / "catalog" / "catalog.yaml"

    @property
    def charts_dir(self) -> Path:
        return self.root / "charts"


def _epoch(env: dict[str, str]) -> int:
    raw = env.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return DEFAULT_EPOCH
    if not raw.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH={raw!r} is not a whole number of seconds",
                         hint="set it to e.g. $(git log -1 --format=%ct) or unset it")
    return int(raw)


def _helm(env: dict[str, str], cache: Path) -> str:
    explicit = env.get("TKE_CATALOG_HELM")
    if explicit:
        return explicit
    cached = cache / "bin" / "helm"
    if cached.is_file() and os.access(cached, os.X_OK):
        return str(cached)
    return shutil.which("helm") or "helm"


def load_settings(*, root: Path | None = None, is_terminal: bool = False) -> Settings:
    """Read the environment once: TKE_CATALOG_ROOT, TKE_CATALOG_CACHE, TKE_CATALOG_HELM, SOURCE_DATE_EPOCH, CI.

    The project root follows `toolkit.adapters.project.resolve_root`, the one rule every verb uses."""
    env = dict(os.environ)
    cache = Path(env.get("TKE_CATALOG_CACHE") or Path.home() / ".cache" / "tke-catalog")
    return Settings(
        root=resolve_root(root, env.get("TKE_CATALOG_ROOT"), Path.cwd()),
        cache=cache,
        helm=_helm(env, cache),
        source_date_epoch=_epoch(env),
        in_ci=env.get("CI", "").lower() in ("1", "true", "yes"),
        is_terminal=is_terminal,
    )


# --- registry credentials and the config files helm and docker keep them in -------------------------

REGISTRY_USERNAME_ENV = "TKE_CATALOG_REGISTRY_USERNAME"
REGISTRY_PASSWORD_ENV = "TKE_CATALOG_REGISTRY_PASSWORD"  # noqa: S105 - the variable's name, not a secret


@dataclass(frozen=True, slots=True)
class RegistryEnvironment:
    """Registry credentials from the environment, and the auth files to look in, in helm's order
    (helm's registry config first, then docker's). `repr` hides the password."""

    username: str | None
    password: str | None
    auth_files: tuple[Path, ...]

    def __repr__(self) -> str:
        shown = "'***'" if self.password is not None else "None"
        return f"RegistryEnvironment(username={self.username!r}, password={shown}, auth_files={self.auth_files!r})"


def _helm_registry_config(env: dict[str, str], home: Path) -> Path:
    if env.get("HELM_REGISTRY_CONFIG"):
        return Path(env["HELM_REGISTRY_CONFIG"])
    if env.get("HELM_CONFIG_HOME"):
        return Path(env["HELM_CONFIG_HOME"]) / "registry" / "config.json"
    config_home = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return config_home / "helm" / "registry" / "config.json"


def _docker_config(env: dict[str, str], home: Path) -> Path:
    folder = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else home / ".docker"
    return folder / "config.json"


def load_registry_environment() -> RegistryEnvironment:
    """Read TKE_CATALOG_REGISTRY_USERNAME/PASSWORD, HELM_REGISTRY_CONFIG (or HELM_CONFIG_HOME,
    XDG_CONFIG_HOME) and DOCKER_CONFIG, once."""
    env = dict(os.environ)
    home = Path(env.get("HOME") or Path.home())
    return RegistryEnvironment(
        username=env.get(REGISTRY_USERNAME_ENV) or None,
        password=env.get(REGISTRY_PASSWORD_ENV),
        auth_files=(_helm_registry_config(env, home), _docker_config(env, home)),
    )


__all__ += ["REGISTRY_PASSWORD_ENV", "REGISTRY_USERNAME_ENV", "RegistryEnvironment", "load_registry_environment"]

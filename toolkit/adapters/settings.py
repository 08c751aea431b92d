"""The only module that reads the environment. Everything else gets these values passed in."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.adapters.project import resolve_root
from toolkit.core.archive import DEFAULT_EPOCH
from toolkit.errors import UsageError

if TYPE_CHECKING:
    from toolkit.adapters.kube.client import ClusterAccess
    from toolkit.core.user_config import UserConfig

__all__ = ["Settings", "load_settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Values read once at the edge: where things are, which helm, which fixed time."""

    root: Path
    cache: Path
    helm: str
    source_date_epoch: int
    is_terminal: bool
    helm_source: str = ""
    """Where `helm` came from, for messages: `--helm`, `TKE_CATALOG_HELM`, `PATH` or the cached build."""
    bundled_fallback: bool = False
    """No project was named or found from the working directory: `root` is the bundled catalog."""

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


HELM_FROM_FLAG = "--helm"
HELM_FROM_ENV = "TKE_CATALOG_HELM"
HELM_FROM_PATH = "helm on PATH"
HELM_FROM_CACHE = "the cached build of scripts/setup.sh"
HELM_FROM_NOWHERE = "not found on PATH nor in the cache"


def _helm(env: dict[str, str], cache: Path, flag: str | None) -> tuple[str, str]:
    """Which helm runs, and where it came from: `--helm` > TKE_CATALOG_HELM > `helm` on PATH > the
    cached build (the user's own helm wins over ours)."""
    if flag:
        return flag, HELM_FROM_FLAG
    explicit = env.get("TKE_CATALOG_HELM")
    if explicit:
        return explicit, HELM_FROM_ENV
    on_path = shutil.which("helm", path=env.get("PATH", os.defpath))
    if on_path:
        return on_path, HELM_FROM_PATH
    cached = cache / "bin" / "helm"
    if cached.is_file() and os.access(cached, os.X_OK):
        return str(cached), HELM_FROM_CACHE
    return "helm", HELM_FROM_NOWHERE


def load_settings(*, root: Path | None = None, is_terminal: bool = False, helm: str | None = None) -> Settings:
    """Read the environment once: TKE_CATALOG_ROOT, TKE_CATALOG_CACHE, TKE_CATALOG_HELM, PATH, SOURCE_DATE_EPOCH.

    The project root follows `toolkit.adapters.project.resolve_root`, the one rule every verb uses;
    `helm` is the `--helm` flag, which wins over the environment."""
    from toolkit.adapters.project import bundled_root

    env = dict(os.environ)
    cache = Path(env.get("TKE_CATALOG_CACHE") or Path.home() / ".cache" / "tke-catalog")
    helm_path, helm_source = _helm(env, cache, helm)
    found = resolve_root(root, env.get("TKE_CATALOG_ROOT"), Path.cwd())
    return Settings(
        root=found,
        cache=cache,
        helm=helm_path,
        source_date_epoch=_epoch(env),
        # a terminal that cannot move the cursor (TERM=dumb: editors' shells, some CI logs) gets plain lines
        is_terminal=is_terminal and env.get("TERM", "") != "dumb",
        helm_source=helm_source,
        bundled_fallback=root is None and not env.get("TKE_CATALOG_ROOT") and found == bundled_root()
        and not Path.cwd().resolve().is_relative_to(found),
    )


def colour_wanted() -> bool:
    """False when the user turned colour off: `NO_COLOR` set (no-color.org) or `TERM=dumb`."""
    return not os.environ.get("NO_COLOR") and os.environ.get("TERM", "") != "dumb"


def default_kubeconfig() -> Path | None:
    """The kubeconfig apply would use when none is named: the first of KUBECONFIG, else ~/.kube/config."""
    named = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    home = Path.home() / ".kube" / "config"
    return Path(named) if named else home if home.exists() else None


__all__ += ["colour_wanted", "default_kubeconfig"]


# --- registry credentials and the config files helm and docker keep them in -------------------------

REGISTRY_USERNAME_ENV = "TKE_CATALOG_REGISTRY_USERNAME"
REGISTRY_PASSWORD_ENV = "TKE_CATALOG_REGISTRY_PASSWORD"  # noqa: S105 - the variable's name, not a secret


@dataclass(frozen=True, slots=True)
class RegistryEnvironment:
    """Registry credentials from the environment, the auth files to look in, in helm's order (helm's
    registry config first, then docker's), and the PATH their credential helpers are found on.
    `repr` hides the password."""

    username: str | None
    password: str | None
    auth_files: tuple[Path, ...]
    helper_path: str | None = None

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
    XDG_CONFIG_HOME), DOCKER_CONFIG and PATH (for `docker-credential-*` helpers), once."""
    env = dict(os.environ)
    home = Path(env.get("HOME") or Path.home())
    return RegistryEnvironment(
        username=env.get(REGISTRY_USERNAME_ENV) or None,
        password=env.get(REGISTRY_PASSWORD_ENV),
        auth_files=(_helm_registry_config(env, home), _docker_config(env, home)),
        helper_path=env.get("PATH"),
    )


__all__ += ["REGISTRY_PASSWORD_ENV", "REGISTRY_USERNAME_ENV", "RegistryEnvironment", "load_registry_environment"]


# --- cluster access: the variables kubectl and client-go read ---------------------------------------

SERVICE_ACCOUNT_ENV = "TKE_CATALOG_SERVICE_ACCOUNT_DIR"
"""Where a pod's service account (token, ca.crt) is mounted, when not at Kubernetes' standard path."""


def load_cluster_access(kubeconfig: Path | None, context: str | None) -> ClusterAccess:
    """The flags plus KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT and TKE_CATALOG_SERVICE_ACCOUNT_DIR, once."""
    from toolkit.adapters.kube.client import ClusterAccess

    env = dict(os.environ)
    extra = {"service_account": Path(env[SERVICE_ACCOUNT_ENV])} if env.get(SERVICE_ACCOUNT_ENV) else {}
    return ClusterAccess(
        kubeconfig=str(kubeconfig) if kubeconfig is not None else None, context=context,
        env_kubeconfig=env.get("KUBECONFIG") or None, home=Path(env["HOME"]) if env.get("HOME") else None,
        service_host=env.get("KUBERNETES_SERVICE_HOST") or None, service_port=env.get("KUBERNETES_SERVICE_PORT") or None,
        **extra)


__all__ += ["SERVICE_ACCOUNT_ENV", "load_cluster_access"]


CONFIG_ENV = "TKE_CATALOG_CONFIG"


def user_config_path() -> Path:
    """`TKE_CATALOG_CONFIG`, else `$XDG_CONFIG_HOME/tke-catalog/config.yaml`, else `~/.config/tke-catalog/config.yaml`."""
    env = dict(os.environ)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "tke-catalog" / "config.yaml"


def load_user_config() -> UserConfig:
    """The user's configuration file, parsed; empty when there is none (a named one must exist)."""
    from toolkit.adapters.files import read_text
    from toolkit.core.user_config import UserConfig, parse_user_config

    path = user_config_path()
    if not path.is_file():
        if os.environ.get(CONFIG_ENV):
            raise UsageError(f"${CONFIG_ENV} names {path}, which is not a file", hint="fix or unset it")
        return UserConfig()
    return parse_user_config(read_text(path), str(path))


__all__ += ["CONFIG_ENV", "load_user_config", "user_config_path"]

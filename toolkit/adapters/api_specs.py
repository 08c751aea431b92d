"""The bundled API of each supported Kubernetes minor (`schemas/kubernetes/1.N.json.gz`, written by
`scripts/fetch-api-specs.py`), read once per process."""

from __future__ import annotations

import functools
import gzip
import json

from toolkit.adapters.project import bundled_root
from toolkit.core.api_spec import ApiSpec, parse_api_spec
from toolkit.core.matrix import KUBERNETES_MINORS
from toolkit.errors import InputError

__all__ = ["load_api_spec", "parse_kube_minor"]


def parse_kube_minor(text: str) -> int:
    """`1.21`, `v1.21.4` or `1.21.4-tke.1` → 21, when the minor is one the catalog supports."""
    parts = text.strip().removeprefix("v").split(".")
    first, last = KUBERNETES_MINORS[0], KUBERNETES_MINORS[-1]
    try:
        major, minor = int(parts[0]), int(parts[1].split("-")[0])
    except (IndexError, ValueError):
        raise InputError(f"Kubernetes version {text!r} is not MAJOR.MINOR[.PATCH]",
                         hint=f"write e.g. 1.{last} or 1.{last}.0") from None
    if major != 1 or minor not in KUBERNETES_MINORS:
        raise InputError(f"Kubernetes {text} is outside the supported versions (1.{first} to 1.{last})",
                         hint=f"pick a version from 1.{first} to 1.{last}")
    return minor


@functools.lru_cache(maxsize=None)
def load_api_spec(minor: int) -> ApiSpec:
    """The API of Kubernetes 1.<minor> (a supported minor)."""
    path = bundled_root() / "schemas" / "kubernetes" / f"1.{minor}.json.gz"
    if not path.is_file():
        raise InputError(f"{path}: the API of Kubernetes 1.{minor} is missing",
                         hint=f"run scripts/fetch-api-specs.py 1.{minor}")
    return parse_api_spec(json.loads(gzip.decompress(path.read_bytes())), str(path))

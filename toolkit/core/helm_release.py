"""Helm's release records, decoded from the Secrets helm keeps them in (pure).

Helm 3 and 4 store each revision of a release as a Secret of type `helm.sh/release.v1` named
`sh.helm.release.v1.<release>.v<revision>`, labelled `owner=helm`, `name`, `status`, `version`. Its
`data.release` is the API's base64 of helm's own base64 of a gzip of the release as JSON (name,
namespace, version, info.status, chart.metadata, config = the user-supplied values, manifest). One LIST
per namespace gives every release with its values and objects: the cheap truth about what is deployed.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.yamldoc import fast_load_plain

__all__ = [
    "HOLDER_LABEL",
    "OWNER_LABEL",
    "RELEASE_SECRET_TYPE",
    "DeployedRelease",
    "ReleaseObject",
    "decode_release_secret",
    "holder_label",
    "latest_releases",
    "manifest_objects",
]

RELEASE_SECRET_TYPE = "helm.sh/release.v1"
_DOCUMENT = re.compile(r"^---[ \t]*$", re.M)
OWNER_LABEL = "tke-catalog.io/cluster"
"""Set on the release Secrets of releases tke-catalog installed: the Cluster they belong to."""
HOLDER_LABEL = "tke-catalog.io/apply"
"""Set on each revision tke-catalog makes: which apply (Lease holder) made it, from its pending start."""


def holder_label(identity: str) -> str:
    """A Lease holder identity (`host/pid-N/uuid`) as a label value (63 characters, no slashes)."""
    text = "".join(c if c.isalnum() or c in "-_." else "." for c in identity)
    return text[-63:].strip("-_.")


@dataclass(frozen=True)
class ReleaseObject:
    """One object a release's manifest creates."""

    api_version: str
    kind: str
    name: str
    namespace: str | None


@dataclass(frozen=True)
class DeployedRelease:
    """One revision of a release as helm recorded it."""

    name: str
    namespace: str
    revision: int
    status: str
    chart: str
    version: str
    values: Mapping[str, Any] = field(default_factory=dict)
    manifest: str = field(default="", repr=False)
    owner: str | None = None  # the Cluster whose tke-catalog installed it (our label), None when foreign
    description: str = ""
    secret: str = ""
    last_deployed: str = ""
    holder: str | None = None  # the HOLDER_LABEL of the apply that made this revision


def _unwrap(raw: str) -> bytes:
    """The API's base64, then helm's base64, then gzip (helm also reads records that are not gzipped)."""
    inner = base64.b64decode(raw)
    data = base64.b64decode(inner)
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    return data


def decode_release_secret(secret: Mapping[str, Any]) -> DeployedRelease | None:
    """The release in one helm Secret; None when the Secret is not a readable helm release record."""
    if secret.get("type") != RELEASE_SECRET_TYPE:
        return None
    raw = (secret.get("data") or {}).get("release")
    if not isinstance(raw, str):
        return None
    try:
        record = json.loads(_unwrap(raw))
    except (binascii.Error, ValueError, OSError, EOFError, zlib.error):
        return None
    if not isinstance(record, dict):
        return None
    meta = secret.get("metadata") or {}
    labels = meta.get("labels") or {}
    chart = (record.get("chart") or {}).get("metadata") or {}
    info = record.get("info") or {}
    return DeployedRelease(
        name=str(record.get("name", labels.get("name", ""))),
        namespace=str(record.get("namespace", meta.get("namespace", ""))),
        revision=int(record.get("version", labels.get("version", 0)) or 0),
        status=str(info.get("status", labels.get("status", ""))),
        chart=str(chart.get("name", "")),
        version=str(chart.get("version", "")),
        values=record.get("config") or {},
        manifest=str(record.get("manifest") or ""),
        owner=labels.get(OWNER_LABEL),
        description=str(info.get("description", "")),
        secret=str(meta.get("name", "")),
        last_deployed=str(info.get("last_deployed", "")),
        holder=labels.get(HOLDER_LABEL),
    )


def latest_releases(secrets: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], DeployedRelease]:
    """(namespace, name) → the newest revision of each release among `secrets`."""
    newest: dict[tuple[str, str], DeployedRelease] = {}
    for secret in secrets:
        release = decode_release_secret(secret)
        if release is None:
            continue
        key = (release.namespace, release.name)
        if key not in newest or release.revision > newest[key].revision:
            newest[key] = release
    return newest


def manifest_objects(release: DeployedRelease) -> list[ReleaseObject]:
    """The objects a release's manifest holds (its namespace for namespaced objects without one)."""
    out: list[ReleaseObject] = []
    for document in _DOCUMENT.split(release.manifest):
        body = document.strip()
        if not body:
            continue
        data = fast_load_plain(body)
        if not isinstance(data, dict) or "kind" not in data:
            continue
        meta = data.get("metadata") or {}
        out.append(ReleaseObject(str(data.get("apiVersion", "")), str(data["kind"]), str(meta.get("name", "")),
                                 meta.get("namespace")))
    return out

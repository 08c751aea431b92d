"""`mirror`: copy container images (and OCI charts) into the platform's registry, digests unchanged.

For each reference: the manifest is read from its registry; an index (multi-platform image) is copied
with every manifest it lists; every blob (config, layers) is uploaded unless the target holds it; the
manifests go up by digest, then the tag. The bytes are the source's, so the digest in the mirror is
the source's digest, which we check. A mirror that already holds the same digest under the tag is
left alone ("unchanged", nothing written). One failed reference is reported and the others still go.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.actions.registry_access import RegistryAccess
from toolkit.adapters.registry.client import ChartRegistry
from toolkit.core.image_ref import ImageRef, mirror_target
from toolkit.errors import InputError, RegistryError, ToolkitError

__all__ = ["MirrorOutcome", "mirror_images", "registry_connector"]

MAX_BLOB_BYTES = 2 * 1024 * 1024 * 1024  # blobs are held in memory: refuse anything beyond 2 GiB
_INDEXES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
_DEFAULT_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"

Connect = Callable[[str], ChartRegistry]  # registry host -> client


@dataclass(frozen=True)
class MirrorOutcome:
    source: str
    target: str
    action: str  # copied | unchanged | failed
    digest: str = ""
    blobs_uploaded: int = 0
    error: ToolkitError | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "target": self.target, "action": self.action,
                               "digest": self.digest, "blobsUploaded": self.blobs_uploaded}
        if self.error is not None:
            out["error"] = self.error.message
        return out


_MAX_INDEX_DEPTH = 4


def _parse(manifest: bytes, where: str) -> dict[str, Any]:
    try:
        data = json.loads(manifest)
    except ValueError as exc:
        raise RegistryError(f"{where}: the manifest is not JSON", hint="is this an image or chart?") from exc
    if not isinstance(data, dict):
        raise RegistryError(f"{where}: the manifest is not a JSON object", hint="is this an image or chart?")
    return data


@dataclass
class _Copy:
    source: ChartRegistry
    source_repo: str
    target: ChartRegistry
    target_repo: str
    uploaded: int = 0

    def manifest(self, reference: str, where: str, depth: int = 0) -> tuple[bytes, str, str]:
        """Copy the manifest `reference` names and all it refers to; returns (bytes, digest, media type)
        without tagging it. Indexes nest at most `_MAX_INDEX_DEPTH` deep (a registry could serve an
        endless chain)."""
        if depth > _MAX_INDEX_DEPTH:
            raise RegistryError(f"{where}: image indexes nested deeper than {_MAX_INDEX_DEPTH} levels (the limit)",
                                hint="the image index is broken or hostile")
        body, digest = self.source.get_manifest(self.source_repo, reference)
        data = _parse(body, where)
        media_type = str(data.get("mediaType") or _DEFAULT_MEDIA_TYPE)
        if media_type in _INDEXES:
            for child in data.get("manifests") or []:
                if not isinstance(child, dict) or not child.get("digest"):
                    raise RegistryError(f"{where}: an index entry without a digest", hint="the image index is broken")
                child_body, child_digest, child_type = self.manifest(str(child["digest"]), where, depth + 1)
                if self.target.manifest_digest(self.target_repo, child_digest) is None:
                    self.target.put_manifest(self.target_repo, child_digest, child_body, child_type)
            return body, digest, media_type
        for blob in [data.get("config"), *(data.get("layers") or [])]:
            if isinstance(blob, dict) and blob.get("digest"):
                self.blob(str(blob["digest"]))
        return body, digest, media_type

    def blob(self, digest: str) -> None:
        if self.target.has_blob(self.target_repo, digest):
            return
        data = self.source.get_blob(self.source_repo, digest, max_bytes=MAX_BLOB_BYTES)
        self.target.upload_blob(self.target_repo, digest, data)
        self.uploaded += 1


def mirror_one(image: ImageRef, target: ImageRef, connect: Connect) -> MirrorOutcome:
    """Copy one image (or chart) into the mirror."""
    source_client, target_client = connect(image.api_host), connect(target.host)
    source_digest = source_client.manifest_digest(image.repository, image.reference)
    if source_digest is None:
        raise RegistryError(f"{image}: not found in {image.host}", status=404, hint="check the image name and tag")
    if image.digest and source_digest != image.digest:
        raise RegistryError(f"{image}: the registry serves {source_digest}", hint="the registry is corrupt or lying")
    if target_client.manifest_digest(target.repository, target.reference) == source_digest:
        return MirrorOutcome(str(image), str(target), "unchanged", source_digest)
    copy = _Copy(source_client, image.repository, target_client, target.repository)
    body, digest, media_type = copy.manifest(source_digest, str(image))
    stored = target_client.put_manifest(target.repository, target.tag or digest, body, media_type)
    if stored != source_digest:
        raise RegistryError(f"{target}: stored as {stored}, not the source's {source_digest}",
                            hint="the mirror rewrote the manifest; use an OCI-compliant registry")
    return MirrorOutcome(str(image), str(target), "copied", digest, copy.uploaded)


def mirror_images(images: Sequence[ImageRef], to: str, connect: Connect) -> list[MirrorOutcome]:
    """Mirror each image into `to` (HOST[/PATH]); failures are outcomes, not exceptions."""
    pairs = [(image, mirror_target(image, to)) for image in dict.fromkeys(images)]
    for image, target in pairs:  # every reference checked before the first copy
        if target.host == image.host and target.path == image.path:
            raise InputError(f"{image}: the mirror is the image's own registry and path",
                             hint="give --to another registry or path")
    outcomes: list[MirrorOutcome] = []
    for image, target in pairs:
        try:
            outcomes.append(mirror_one(image, target, connect))
        except RegistryError as exc:
            outcomes.append(MirrorOutcome(str(image), str(target), "failed", error=exc))
    return outcomes


def registry_connector(access: RegistryAccess) -> Connect:
    """One client per registry host for this run, with its TLS options and credentials."""
    clients: dict[str, ChartRegistry] = {}

    def connect(host: str) -> ChartRegistry:
        if host not in clients:
            clients[host] = access.connect(f"oci://{host}/mirror")[1]
        return clients[host]
    return connect

"""A registry serving an endless chain of image indexes (each a new document, so digests cannot stop
it) must end in a clear error, not a RecursionError, and tag nothing in the mirror."""

from __future__ import annotations

import hashlib
import json

import pytest

from toolkit.actions.mirror import _MAX_INDEX_DEPTH, mirror_one
from toolkit.core.image_ref import parse_image
from toolkit.errors import RegistryError

INDEX = "application/vnd.oci.image.index.v1+json"


class ChainRegistry:
    """Index n names index n+1, for as deep as asked (built bottom-up so every digest is real)."""

    def __init__(self, depth: int) -> None:
        self.bodies: dict[str, bytes] = {}
        child = b'{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "layers": []}'
        for _ in range(depth):
            digest = self._add(child)
            child = json.dumps({"schemaVersion": 2, "mediaType": INDEX,
                                "manifests": [{"digest": digest, "mediaType": INDEX, "size": 1}]}).encode()
        self.top = self._add(child)
        self.put: list[str] = []

    def _add(self, body: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.bodies[digest] = body
        return digest

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str]:
        digest = self.top if reference == "v1" else reference
        return self.bodies[digest], digest

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        return self.top if reference == "v1" and not self.put else None

    def put_manifest(self, repository: str, reference: str, manifest: bytes, media_type: str = "") -> str:
        self.put.append(reference)
        return "sha256:" + hashlib.sha256(manifest).hexdigest()

    def has_blob(self, repository: str, digest: str) -> bool:
        return True


def test_an_endless_chain_of_indexes_is_refused_and_nothing_is_tagged() -> None:
    source, target = ChainRegistry(2000), ChainRegistry(0)
    with pytest.raises(RegistryError, match=f"deeper than {_MAX_INDEX_DEPTH} levels"):
        mirror_one(parse_image("src.example/app:v1"), parse_image("mirror.example/app:v1"),
                   lambda host: source if host == "src.example" else target)
    assert "v1" not in target.put


def test_a_shallow_index_still_mirrors() -> None:
    source, target = ChainRegistry(2), ChainRegistry(0)
    outcome = mirror_one(parse_image("src.example/app:v1"), parse_image("mirror.example/app:v1"),
                         lambda host: source if host == "src.example" else target)
    assert outcome.action == "copied", outcome.error
    assert target.put[-1] == "v1"

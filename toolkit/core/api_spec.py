"""One Kubernetes release's API as the checks need it: which kinds each group/version serves and the
fields of every type, taken from the release's own OpenAPI document (`api/openapi-spec/swagger.json` of
`k8s.io/kubernetes`, generated from that release's Go types). Pure: compacting and reading.

The compact form drops descriptions and keeps, per definition, its type, properties, items,
additionalProperties and format: what structural (strict) checking needs, about a fifth of the size."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import InputError

__all__ = ["FORMAT", "ApiSpec", "compact_swagger", "parse_api_spec"]

FORMAT = "tke-catalog/api-spec/v1"
_KEEP = ("type", "format", "properties", "items", "additionalProperties", "$ref", "allOf")


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        kept = {k: v for k, v in node.items() if k in _KEEP}
        if "properties" in kept:
            kept["properties"] = {name: _strip(prop) for name, prop in kept["properties"].items()}
        for key in ("items", "additionalProperties"):
            if isinstance(kept.get(key), dict):
                kept[key] = _strip(kept[key])
        if "allOf" in kept:
            kept["allOf"] = [_strip(part) for part in kept["allOf"]]
        return kept
    return node


def compact_swagger(swagger: Mapping[str, Any], release: str) -> dict[str, Any]:
    """The compact spec of one release from its swagger.json."""
    definitions = swagger.get("definitions")
    if not isinstance(definitions, dict):
        raise InputError(f"Kubernetes {release}: the OpenAPI document has no definitions",
                         hint="the download is not k8s.io/kubernetes' api/openapi-spec/swagger.json")
    kinds: dict[str, str] = {}
    for name, definition in sorted(definitions.items()):
        properties = definition.get("properties") or {}
        if "metadata" not in properties and not name.endswith("List"):
            continue  # options and events every group lists (DeleteOptions, WatchEvent): not objects
        for gvk in definition.get("x-kubernetes-group-version-kind") or ():
            group_version = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]
            kinds.setdefault(f"{group_version}/{gvk['kind']}", name)
    return {"format": FORMAT, "release": release, "kinds": kinds,
            "definitions": {name: _strip(d) for name, d in sorted(definitions.items())}}


@dataclass(frozen=True)
class ApiSpec:
    """The API of one Kubernetes release: `kinds` maps `group/version/Kind` (`v1/Kind` for core) to
    the definition that describes it."""

    release: str
    kinds: Mapping[str, str]
    definitions: Mapping[str, Mapping[str, Any]] = field(repr=False)

    @property
    def minor(self) -> int:
        """The release's minor version (21 for 1.21.14)."""
        return int(self.release.split(".")[1])

    def definition_of(self, api_version: str, kind: str) -> str | None:
        """The definition name for an object's apiVersion and kind, or None when not served."""
        return self.kinds.get(f"{api_version}/{kind}")

    def versions_of(self, group: str, kind: str) -> list[str]:
        """Every apiVersion of this group serving `kind` (e.g. ["policy/v1"] for PodDisruptionBudget)."""
        found = []
        for key in self.kinds:
            api_version, _, served_kind = key.rpartition("/")
            served_group = api_version.rpartition("/")[0]
            if served_kind == kind and served_group == group:
                found.append(api_version)
        return sorted(found)

    def api_versions(self) -> list[str]:
        """Every group/version served, and every group/version/Kind (helm's --api-versions)."""
        group_versions = {key.rpartition("/")[0] for key in self.kinds}
        return sorted(group_versions) + sorted(self.kinds)

    def groups(self) -> frozenset[str]:
        """Every API group this release serves ("" is the core group)."""
        return frozenset(key.rpartition("/")[0].rpartition("/")[0] for key in self.kinds)


def parse_api_spec(data: Any, source: str) -> ApiSpec:
    """Read a compact spec (as written by `compact_swagger`)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{source}: not a tke-catalog API spec ({FORMAT})",
                         hint="delete the file; it is fetched again from the Go module proxy")
    return ApiSpec(str(data["release"]), dict(data["kinds"]), dict(data["definitions"]))

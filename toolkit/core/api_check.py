"""Check rendered objects against one Kubernetes release's API, as that release's API server decodes
them strictly: a kind its group/version does not serve (removed or not yet added), a field its type
does not have, or a value of the wrong JSON type is an error. Pure.

Custom resources are checked against the CustomResourceDefinitions among the same objects (the kind
and version must be defined and served); those whose definition is installed by something else (an
operator registering CRDs at start-up) are reported as not checked. Alpha API versions pass the
schema check but are warned about: API servers do not serve them unless a feature gate is on."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from toolkit.core.api_spec import ApiSpec
from toolkit.core.findings import Finding, Severity
from toolkit.core.schema import json_type_name

__all__ = ["BUILTIN_GROUPS", "check_objects", "crd_kinds", "group_by_minor", "minor_ranges"]

BUILTIN_GROUPS: frozenset[str] = frozenset({
    "", "admission.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
    "apps", "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "extensions", "flowcontrol.apiserver.k8s.io",
    "imagepolicy.k8s.io", "internal.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io", "policy",
    "rbac.authorization.k8s.io", "resource.k8s.io", "scheduling.k8s.io", "settings.k8s.io", "storage.k8s.io",
    "storagemigration.k8s.io",
})
"""Every API group Kubernetes 1.19-1.36 serves itself: an object of these groups that a release does not
serve is an error, never a custom resource (`metrics.k8s.io` is aggregated, so not in the list)."""

_ALPHA = re.compile(r"v\d+alpha\d+$")
_REF = "#/definitions/"
_MAX_PROBLEMS = 20


def crd_kinds(objects: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(group, kind) → served versions, for every CustomResourceDefinition among `objects`."""
    kinds: dict[tuple[str, str], tuple[str, ...]] = {}
    for obj in objects:
        if obj.get("kind") != "CustomResourceDefinition" or not isinstance(obj.get("spec"), dict):
            continue
        spec = obj["spec"]
        names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
        versions = [v.get("name") for v in spec.get("versions") or () if isinstance(v, dict)
                    and v.get("served", True)]
        if spec.get("version"):  # apiextensions.k8s.io/v1beta1's single version
            versions.append(spec["version"])
        kinds[(str(spec.get("group", "")), str(names.get("kind", "")))] = tuple(str(v) for v in versions if v)
    return kinds


def _split(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def _describe(obj: Mapping[str, Any]) -> str:
    found = obj.get("metadata")
    meta: Mapping[str, Any] = found if isinstance(found, dict) else {}
    return f"{obj.get('kind')}/{meta.get('name', '?')}"


def check_objects(objects: Sequence[Mapping[str, Any]], spec: ApiSpec, *, file: str = "",
                  extra_crds: Mapping[tuple[str, str], tuple[str, ...]] | None = None) -> list[Finding]:
    """Every problem Kubernetes `spec.release` would have with these objects, as findings."""
    findings: list[Finding] = []
    crds = {**crd_kinds(objects), **(extra_crds or {})}
    for obj in objects:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        what = _describe(obj)
        if not isinstance(api_version, str) or not isinstance(kind, str) or not api_version or not kind:
            findings.append(Finding(Severity.ERROR, f"{what}: an object without apiVersion and kind", file=file,
                                    rule="kube-api", hint="every object needs apiVersion and kind"))
            continue
        group, version = _split(api_version)
        definition = spec.definition_of(api_version, kind)
        if definition is None:
            findings.extend(_not_served(what, group, version, kind, spec, crds, file))
            continue
        if _ALPHA.match(version):
            findings.append(Finding(
                Severity.WARNING, f"{what}: {api_version} is an alpha API, served only with its feature gate and "
                                  "runtime-config turned on", file=file, rule="kube-api-alpha",
                hint=f"use a beta or GA version of {kind} if there is one"))
        problems = list(_problems(obj, {"$ref": _REF + definition}, spec, ""))
        for path, message in problems[:_MAX_PROBLEMS]:
            findings.append(Finding(Severity.ERROR, f"{what} ({api_version}): {message} at {path or '.'}",
                                    file=file, path=f"${path}", rule="kube-api",
                                    hint=f"this version's {kind} has no such field or type there; fix the template"))
    return findings


def _not_served(what: str, group: str, version: str, kind: str, spec: ApiSpec,
                crds: Mapping[tuple[str, str], tuple[str, ...]], file: str) -> list[Finding]:
    api_version = f"{group}/{version}" if group else version
    if group in BUILTIN_GROUPS or group in spec.groups():
        others = spec.versions_of(group, kind)
        hint = (f"use {' or '.join(others)} (what this version serves for {kind}), or guard the object with "
                ".Capabilities.APIVersions.Has" if others else
                f"this version has no {kind} at all: drop the object here (guard it with "
                ".Capabilities.APIVersions.Has) or end the chart's kubeVersion before the versions named")
        return [Finding(Severity.ERROR, f"{what}: {api_version} {kind} is not served", file=file,
                        rule="kube-api", hint=hint)]
    served = crds.get((group, kind))
    if served is None:
        return [Finding(Severity.INFO, f"{what}: {api_version} {kind} is a custom resource whose definition the "
                                       "chart does not ship; not checked", file=file, rule="kube-api-unchecked",
                        hint="ship the CustomResourceDefinition in crds/ to have it checked")]
    if version not in served:
        return [Finding(Severity.ERROR, f"{what}: its CustomResourceDefinition serves {group} "
                                        f"{', '.join(served) or 'no version'}, not {version}", file=file,
                        rule="kube-api", hint=f"use apiVersion {group}/{served[0]}" if served else
                        "mark a version served in the CustomResourceDefinition")]
    return []


def _resolve(schema: Mapping[str, Any], spec: ApiSpec) -> Mapping[str, Any]:
    seen = 0
    while True:
        ref = schema.get("$ref")
        if not ref and schema.get("allOf") and len(schema["allOf"]) == 1:
            ref = schema["allOf"][0].get("$ref")
        if not ref or seen > 32:
            return schema
        seen += 1
        schema = spec.definitions.get(str(ref).removeprefix(_REF), {})


def _problems(value: Any, schema: Mapping[str, Any], spec: ApiSpec, path: str) -> Iterator[tuple[str, str]]:
    resolved = _resolve(schema, spec)
    if value is None:
        return  # a JSON null decodes into any Go field (its zero value)
    kind = resolved.get("type")
    fmt = resolved.get("format")
    if fmt == "int-or-string":
        if not (isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))):
            yield path, f"expected an integer or a string, got {json_type_name(value)}"
        return
    if kind == "string":
        if _is_quantity(schema) and isinstance(value, (int, float)) and not isinstance(value, bool):
            return  # resource.Quantity decodes from a JSON number too
        if not isinstance(value, str):
            yield path, f"expected a string, got {json_type_name(value)} {value!r} (quote it)"
        return
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            yield path, f"expected an integer, got {json_type_name(value)}"
        return
    if kind == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            yield path, f"expected a number, got {json_type_name(value)}"
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            yield path, f"expected true or false, got {json_type_name(value)} {value!r}"
        return
    if kind == "array":
        if not isinstance(value, list):
            yield path, f"expected a list, got {json_type_name(value)}"
            return
        items = resolved.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                yield from _problems(item, items, spec, f"{path}[{index}]")
        return
    properties = resolved.get("properties")
    additional = resolved.get("additionalProperties")
    if kind == "object" or properties is not None or additional is not None:
        if not isinstance(value, dict):
            yield path, f"expected a mapping, got {json_type_name(value)}"
            return
        if properties is None and not isinstance(additional, dict):
            return  # free-form (RawExtension, FieldsV1, ...)
        for key, item in value.items():
            child = f"{path}.{key}"
            if properties is not None and key in properties:
                yield from _problems(item, properties[key], spec, child)
            elif isinstance(additional, dict):
                yield from _problems(item, additional, spec, child)
            elif additional is not True:
                yield child, f"unknown field `{key}`"
    # a definition without a type or properties (JSON, JSONSchemaPropsOrBool, ...) takes any value


def _is_quantity(schema: Mapping[str, Any]) -> bool:
    return str(schema.get("$ref") or "").endswith(".Quantity")


def minor_ranges(minors: Iterable[int]) -> str:
    """[19, 20, 21, 25] → `1.19-1.21, 1.25`."""
    ordered = sorted(set(minors))
    parts: list[str] = []
    start = prev = None
    for minor in [*ordered, None]:
        if minor is not None and prev is not None and minor == prev + 1:
            prev = minor
            continue
        if start is not None and prev is not None:
            parts.append(f"1.{start}" if start == prev else f"1.{start}-1.{prev}")
        start = prev = minor
    return ", ".join(parts)


def group_by_minor(per_minor: Mapping[int, Sequence[Finding]], *, label: str = "") -> list[Finding]:
    """One finding per distinct problem, naming every Kubernetes minor that has it."""
    grouped: dict[Finding, list[int]] = {}
    for minor, findings in sorted(per_minor.items()):
        for finding in findings:
            grouped.setdefault(finding, []).append(minor)
    prefix = f"{label}: " if label else ""
    return [replace(finding, message=f"{prefix}Kubernetes {minor_ranges(minors)}: {finding.message}")
            for finding, minors in grouped.items()]

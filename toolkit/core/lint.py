"""Our chart rules, as pure functions that return findings (helm's own lint runs in the action).

Each rule names itself in `Finding.rule`: chart-api-version, chart-name, chart-version, chart-metadata,
schema-missing, schema-invalid, schema-global, schema-drift, values-schema, variant-schema, image-latest,
yaml-invalid, helmignore-negation, helmignore-bang-class, helmignore-double-slash, chart-lock, chart-duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import semver

from toolkit.core.chart import ChartPackage, lines_of_one_chart
from toolkit.core.crd_policy import CRD_POLICY_ANNOTATION, crd_policy
from toolkit.core.dependencies import lock_digest, parse_lock, requirements
from toolkit.core.findings import Finding, Severity, json_path, yaml_error_finding
from toolkit.core.helmignore import parse_helmignore
from toolkit.core.schema import check_schema, validate_instance
from toolkit.core.values import merge_values
from toolkit.core.yamldoc import parse_yaml, to_plain
from toolkit.errors import InputError, YamlError

__all__ = ["ChartLintInput", "lint_chart", "lint_chart_names"]

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


@dataclass(frozen=True)
class ChartLintInput:
    """Everything the pure rules look at for one chart."""

    package: ChartPackage
    folder: str
    canonical_schema: bytes | None = None
    canonical_schema_file: str = ""
    variants: Mapping[str, str] = field(default_factory=dict)
    profile: str = "catalog"
    """`catalog`: every rule (a chart of our catalog); `helm`: only what helm itself requires and the
    pinning and schema-validity rules (a foreign chart: no catalog schema, folder or CRD-policy rules)."""


def _err(rule: str, message: str, file: str, *, path: str = "$", hint: str | None = None,
         severity: Severity = Severity.ERROR) -> Finding:
    return Finding(severity, message, file=file, path=path, hint=hint, rule=rule)


def _metadata_rules(item: ChartLintInput) -> Iterator[Finding]:
    meta, file = item.package.metadata, f"{item.folder}/Chart.yaml"
    if meta.get("apiVersion") != "v2":
        yield _err("chart-api-version", f"apiVersion is {meta.get('apiVersion')!r}, expected 'v2'", file,
                   path="$.apiVersion", hint="set `apiVersion: v2` (Helm 3 charts)")
    name = str(meta.get("name", ""))
    if not _NAME.match(name):
        yield _err("chart-name", f"chart name {name!r} is not a lowercase DNS label", file, path="$.name",
                   hint="use lowercase letters, digits and dashes")
    folder_name = item.folder.rstrip("/").rsplit("/", 1)[-1]
    line_of_chart = folder_name.split("@", 1)[0]  # `cilium@1.14`: an older line of chart `cilium`
    if item.profile == "catalog" and name != line_of_chart:
        yield _err("chart-name", f"chart name {name!r} differs from its folder {folder_name!r}", file,
                   path="$.name", hint=f"rename the folder or set `name: {line_of_chart}`")
    version = str(meta.get("version", ""))
    if not semver.Version.is_valid(version.removeprefix("v")):  # helm accepts `v1.2.3`
        yield _err("chart-version", f"version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)", file,
                   path="$.version", hint="write e.g. `version: 1.2.3`")
    for key in ("description", "appVersion"):
        if not meta.get(key):
            yield _err("chart-metadata", f"`{key}` is missing", file, path=f"$.{key}",
                       hint=f"add `{key}:` to Chart.yaml", severity=Severity.WARNING)


def _schema_allows_global(schema: Mapping[str, Any]) -> bool:
    if schema.get("additionalProperties", True) is not False:
        return True
    return "global" in (schema.get("properties") or {})


def _schema_rules(item: ChartLintInput) -> Iterator[Finding]:
    package = item.package
    file = f"{item.folder}/values.schema.json"
    if item.profile != "catalog":
        if package.schema is not None:
            yield from check_schema(package.schema, file)
        return
    if package.schema is None:
        yield _err("schema-missing", "the chart has no values.schema.json", item.folder,
                   hint=f"add schemas/charts/{package.name}.schema.json and copy it to {file}")
        return
    problems = check_schema(package.schema, file)
    yield from problems
    if isinstance(package.schema, Mapping) and not _schema_allows_global(package.schema):
        yield _err("schema-global", "the schema forbids helm's injected `global` key", file, path="$.properties",
                   hint='add "global": {"type": "object"} to the top-level properties')
    shipped = package.files.get("values.schema.json")
    if item.canonical_schema is None:
        yield _err("schema-drift", f"no source schema at {item.canonical_schema_file}", file,
                   hint=f"keep the source of truth in {item.canonical_schema_file} and copy it here")
    elif shipped != item.canonical_schema:
        yield _err("schema-drift", f"differs from its source of truth {item.canonical_schema_file}", file,
                   hint=f"cp {item.canonical_schema_file} {file}")


def _values_rules(item: ChartLintInput) -> Iterator[Finding]:
    package, schema = item.package, item.package.schema
    usable = isinstance(schema, Mapping) and not check_schema(schema, "")
    values_file = f"{item.folder}/values.yaml"
    if usable and "values.yaml" in package.files:
        tree = parse_yaml(package.files["values.yaml"].decode("utf-8", "replace"), values_file, version=(1, 1))
        yield from validate_instance(to_plain(tree) or {}, schema, file=values_file,  # type: ignore[arg-type]
                                     source_root=tree, rule="values-schema")
    yield from _latest_tags(package.values, values_file)
    for name, text in sorted(item.variants.items()):
        file = f"{item.folder}/ci/{name}"
        try:
            tree = parse_yaml(text, file, version=(1, 1))
        except YamlError as exc:
            yield yaml_error_finding(exc, file)
            continue
        override = to_plain(tree) or {}
        if not isinstance(override, dict):
            yield _err("variant-schema", "a values file must be a mapping", file)
            continue
        yield from _latest_tags(override, file)
        if usable:
            merged = merge_values(package.values, override)
            yield from validate_instance(merged, schema, file=file, source_root=tree,  # type: ignore[arg-type]
                                         rule="variant-schema")


def _latest_tags(values: Any, file: str, path: tuple[str | int, ...] = ()) -> Iterator[Finding]:
    """Image tags must be pinned: no `latest`, no empty tag next to a repository, unless a `digest`
    sibling (or `@sha256:` in an `image` string) pins the image."""
    if isinstance(values, Mapping):
        by_digest = str(values.get("digest") or "").startswith("sha256:")
        if ("repository" in values and "tag" in values and not by_digest
                and str(values["tag"]).strip() in ("", "latest")):
            yield _err("image-latest", f"image {values['repository']!r} is not pinned (tag {values['tag']!r})",
                       file, path=json_path(path + ("tag",)), hint="pin a released tag such as `v1.2.3`")
        for key, value in values.items():
            if (key == "image" and isinstance(value, str) and "@sha256:" not in value
                    and (value.endswith(":latest") or ":" not in value.split("/")[-1])):
                yield _err("image-latest", f"image {value!r} is not pinned", file, path=json_path(path + (key,)),
                           hint="append a released tag, e.g. `:v1.2.3`")
            else:
                yield from _latest_tags(value, file, path + (str(key),))
    elif isinstance(values, list):
        for index, value in enumerate(values):
            yield from _latest_tags(value, file, path + (index,))


def _helmignore_rules(item: ChartLintInput) -> Iterator[Finding]:
    raw = item.package.files.get(".helmignore")
    if raw is None:
        return
    rules = parse_helmignore(raw, f"{item.folder}/.helmignore")
    for rule in rules.negations:
        yield _err("helmignore-negation", f"`{rule}`: in helm a `!` rule ignores every path it does not match "
                   "(and a lone `!` ignores everything)", f"{item.folder}/.helmignore", severity=Severity.WARNING,
                   hint="write the rules as plain exclusions instead")
    for rule in rules.double_slashes:
        yield _err("helmignore-double-slash", f"`{rule}`: helm 3 and helm 4 read more than one leading `/` "
                   "differently (helm 3: it matches from the second path on; helm 4: never)",
                   f"{item.folder}/.helmignore", severity=Severity.WARNING, hint="start the rule with one `/`")
    for rule in rules.bang_classes:
        yield _err("helmignore-bang-class", f"`{rule}`: helm reads `[!...]` as a class holding `!`, not as a "
                   "negated class", f"{item.folder}/.helmignore", severity=Severity.WARNING,
                   hint="negate a class with `^`, e.g. `[^a]`")


def _lock_rules(item: ChartLintInput) -> Iterator[Finding]:
    """Chart.lock must still match Chart.yaml's dependencies (else `helm dependency build` refuses it)."""
    lock = item.package.files.get("Chart.lock")
    if lock is None:
        return
    file = f"{item.folder}/Chart.lock"
    try:
        reqs = requirements(item.package.files["Chart.yaml"], f"{item.folder}/Chart.yaml")
        digest, locked = parse_lock(lock.decode("utf-8", "replace"), file)
    except InputError as exc:
        yield _err("chart-lock", exc.message, file, hint=exc.hint)
        return
    if lock_digest(reqs, locked) != digest:
        yield _err("chart-lock", "Chart.lock is out of sync with the dependencies in Chart.yaml (helm dependency "
                   "build refuses it)", file, hint="run `tke-catalog deps update` in the chart folder")


def _crd_rules(item: ChartLintInput) -> Iterator[Finding]:
    """A chart with `crds/` states what apply does with them on upgrades (helm never upgrades them)."""
    if item.profile != "catalog":
        return
    file = f"{item.folder}/Chart.yaml"
    path = f"$.annotations['{CRD_POLICY_ANNOTATION}']"
    try:
        policy = crd_policy(item.package.metadata, file)
    except InputError as exc:
        yield _err("chart-crd-policy", exc.message, file, path=path, hint=exc.hint)
        return
    if policy is None and any(name.startswith("crds/") for name in item.package.files):
        yield _err("chart-crd-policy", "the chart ships crds/ but states no CRD upgrade policy (helm creates "
                                       "them once and never upgrades them)", file, path=path,
                   hint=f"add `{CRD_POLICY_ANNOTATION}: CreateReplace` (apply upgrades them), `Create` or `Skip` "
                        "under annotations")


def lint_chart(item: ChartLintInput) -> list[Finding]:
    """Every rule of ours for one chart."""
    findings: list[Finding] = []
    for rules in (_metadata_rules, _crd_rules, _schema_rules, _values_rules, _helmignore_rules, _lock_rules):
        try:
            findings.extend(rules(item))
        except YamlError as exc:
            findings.append(yaml_error_finding(exc, item.folder))
    return findings


def lint_chart_names(packages: Mapping[str, ChartPackage]) -> list[Finding]:
    """Chart names must be unique across the catalog (keys are folders), except for the lines of one
    chart (`NAME` and `NAME@LINE` folders), which must differ in version."""
    seen: dict[str, str] = {}
    versions: dict[tuple[str, str], str] = {}
    findings = []
    for folder, package in sorted(packages.items()):
        first = seen.setdefault(package.name, folder)
        if first != folder and not lines_of_one_chart(first, folder, package.name):
            findings.append(_err("chart-duplicate", f"chart name {package.name!r} is also used by {first}",
                                 f"{folder}/Chart.yaml", path="$.name", hint="give every chart a unique name"))
            continue
        other = versions.setdefault((package.name, package.version), folder)
        if other != folder:
            findings.append(_err("chart-duplicate", f"chart {package.name} {package.version} is also in {other}",
                                 f"{folder}/Chart.yaml", path="$.version",
                                 hint="give each line of a chart its own version (older lines lower)"))
    return findings


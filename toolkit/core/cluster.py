"""Read a TKEStack `platform.tkestack.io/v1` Cluster into typed values, reporting every problem at once.

Pure: `parse_cluster(text, source, schema=...)` takes the file's text and the cluster schema and returns
the `Cluster` (or None) with findings. TKEStack 1.8 objects are accepted unchanged; our extensions are
`spec.features.disabledApps`, version ranges in `chartVersion`, `app.spec.dependsOn` and `oci://` repoURLs.
`rawValues` may be plain YAML/JSON or base64 of it (the API server stores it base64-encoded).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolkit.core.findings import Finding, Severity, json_path
from toolkit.core.schema import validate_instance
from toolkit.core.tkestack_defaults import (
    GENERATED_NAME_SUFFIX,
    Defaulted,
    apply_tkestack_defaults,
)
from toolkit.core.yamldoc import fast_load_plain, line_of, parse_yaml, to_plain
from toolkit.errors import InputError

__all__ = [
    "DOCKERSHIM_REMOVED",
    "AppSpec",
    "Cluster",
    "Features",
    "ParsedCluster",
    "decode_raw_values",
    "kube_version",
    "parse_cluster",
]

DOCKERSHIM_REMOVED = (1, 24)
"""The Kubernetes minor release that removed dockershim (docker as a runtime needs cri-dockerd from here on)."""

_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]+$")
_VERSION = re.compile(r"^v?([0-9]+)\.([0-9]+)(?:\.([0-9]+))?")


def kube_version(text: str) -> tuple[int, int, int]:
    """`1.21.4-tke.1` → (1, 21, 4); unparsable text gives (0, 0, 0)."""
    match = _VERSION.match(text.strip())
    if not match:
        return (0, 0, 0)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


@dataclass(frozen=True)
class Features:
    """The Cluster features that select default apps, normalized (absent fields get TKEStack's defaults)."""

    enable_cilium: bool = False
    network_mode: str = "overlay"
    container_runtime: str = "containerd"
    container_runtime_explicit: bool = True
    enable_metrics_server: bool = False
    gpu_type: str | None = None
    disabled_apps: tuple[str, ...] = ()
    skip_conditions: tuple[str, ...] = ()
    ipv6_dual_stack: bool = False

    def as_conditions(self) -> dict[str, Any]:
        """The names a catalog app's `when` tests, with their values for this Cluster."""
        return {
            "enableCilium": self.enable_cilium,
            "networkMode": self.network_mode,
            "containerRuntime": self.container_runtime,
            "enableMetricsServer": self.enable_metrics_server,
            "gpuType": self.gpu_type,
        }


@dataclass(frozen=True)
class AppSpec:
    """One bootstrap app: which chart, which release, which values (rawValues already decoded)."""

    index: int
    release: str
    chart_name: str
    namespace: str | None = None
    chart_group: str | None = None
    chart_version: str | None = None
    repo_url: str | None = None
    raw_values: Mapping[str, Any] = field(default_factory=dict)
    raw_values_encoding: str = "none"
    set_values: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    dry_run: bool = False
    take_over: bool = False  # consent to take over a same-name release tke-catalog did not install

    def path(self, *parts: str | int) -> list[str | int]:
        """The JSON path parts of this app (or a field below it) inside the Cluster file."""
        return ["spec", "bootstrapApps", self.index, "app", *parts]


@dataclass(frozen=True)
class Cluster:
    """The parts of a Cluster object that decide its releases."""

    name: str
    version: str
    features: Features
    apps: tuple[AppSpec, ...] = ()
    generated_name: bool = False
    defaulted: tuple[Defaulted, ...] = ()
    cluster_cidr: str = "10.244.0.0/16"
    """The IPv4 CIDR the charts are given (the IPv4 half of a dual stack)."""
    service_cidr: str | None = None
    cluster_cidr_as_written: str = ""
    max_cluster_service_num_set: bool = False
    max_cluster_service_num: int = 256
    max_node_pod_num: int = 256
    kubelet_extra_args: Mapping[str, str] = field(default_factory=dict)
    docker_extra_args: Mapping[str, str] = field(default_factory=dict)
    api_endpoint: tuple[str, int, str] | None = None
    """The API server's own (host, port, where it comes from): the HA VIP, else the first machine."""
    dns_domain: str = "cluster.local"
    network_device: str = "eth0"
    network_args: Mapping[str, str] = field(default_factory=dict)
    source: str = "<cluster>"
    tree: Any = field(default=None, compare=False, repr=False)
    text: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tree", self.tree)

    def round_trip_tree(self) -> Any:
        """The round-trip tree (for line numbers), parsed on first use."""
        tree = self.__dict__["_tree"]
        if tree is None and self.text:
            tree = parse_yaml(self.text, self.source)
            object.__setattr__(self, "_tree", tree)
        return tree

    @property
    def kube_version(self) -> tuple[int, int, int]:
        """The Kubernetes version as numbers."""
        return kube_version(self.version)

    def line(self, path: Sequence[str | int]) -> int | None:
        """The line in the Cluster file where `path` (or its nearest parent) was written."""
        tree = self.round_trip_tree()
        return line_of(tree, list(path)) if tree is not None else None

    def finding(self, message: str, path: Sequence[str | int], *, hint: str | None = None, rule: str = "cluster",
                severity: Severity = Severity.ERROR) -> Finding:
        """A finding located at `path` in this Cluster's file."""
        return Finding(severity, message, file=self.source, path=json_path(path), line=self.line(path), hint=hint,
                       rule=rule)


@dataclass(frozen=True)
class ParsedCluster:
    """What `parse_cluster` found: the Cluster when it could be built, and every finding."""

    cluster: Cluster | None
    findings: list[Finding]


def decode_raw_values(text: str, kind: str, source: str) -> tuple[dict[str, Any], str]:
    """rawValues text → (mapping, "base64" | "plain"); raises InputError when it is not a mapping.

    Base64 is detected: text made only of base64 characters that decodes to UTF-8 YAML/JSON holding a
    mapping is decoded; anything else is read as plain YAML/JSON (YAML 1.1, as helm reads values).
    """
    stripped = text.strip()
    if not stripped:
        return {}, "plain"
    if _BASE64.match(stripped):
        try:
            decoded = base64.b64decode("".join(stripped.split()), validate=True).decode("utf-8")
            value = _parse_values_text(decoded, kind, source)
        except (binascii.Error, UnicodeDecodeError, InputError, ValueError):
            value = None
        if isinstance(value, dict):
            return value, "base64"
    value = _parse_values_text(text, kind, source)
    if value is None:
        return {}, "plain"
    if not isinstance(value, dict):
        raise InputError(f"{source}: rawValues must hold a mapping of values, got {type(value).__name__}",
                         hint="write `key: value` lines (YAML) or a JSON object, plain or base64-encoded")
    return value, "plain"


def _parse_values_text(text: str, kind: str, source: str) -> Any:
    if kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass  # JSON with YAML-isms still reads as YAML, which helm accepts too
    fast = fast_load_plain(text)  # libyaml reads YAML 1.1, as helm does
    if isinstance(fast, dict):
        return fast
    return to_plain(parse_yaml(text, source, version=(1, 1)))


_split_cache: dict[int, tuple[Mapping[str, Any], dict[str, Any], dict[str, Any]]] = {}


def _quick_check(plain: dict[str, Any], schema: Mapping[str, Any], source: str) -> list[Finding]:
    """Validate the Cluster without its bootstrap apps, then each app on its own: app entries repeat across
    a fleet, so their (memoized) results are reused. Any finding sends the caller to the full check."""
    cached = _split_cache.get(id(schema))
    if cached is None or cached[0] is not schema:
        defs = schema.get("$defs", {})
        if "bootstrapApp" not in defs or "clusterSpec" not in defs:
            return validate_instance(plain, schema, file=source, rule="cluster-schema")
        outer = json.loads(json.dumps(schema))
        apps = outer["$defs"]["clusterSpec"]["properties"]["bootstrapApps"]
        outer["$defs"]["clusterSpec"]["properties"]["bootstrapApps"] = {k: v for k, v in apps.items() if k != "items"}
        app = {"$schema": schema.get("$schema"), "$defs": defs, "$ref": "#/$defs/bootstrapApp"}
        cached = (schema, outer, app)
        _split_cache[id(schema)] = cached
    _, outer, app = cached
    findings = validate_instance(plain, outer, file=source, rule="cluster-schema")
    apps = (plain.get("spec") or {}).get("bootstrapApps") if isinstance(plain.get("spec"), dict) else None
    for entry in apps if isinstance(apps, list) else ():
        findings += validate_instance(entry, app, file=source, rule="cluster-schema")
    return findings


def _ipv4_part(cidrs: str) -> str:
    """The first IPv4-looking CIDR of a comma-separated list (a dual stack), else the first one."""
    parts = [p.strip() for p in cidrs.split(",")]
    return next((p for p in parts if ":" not in p), parts[0])


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default


def _str(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _api_endpoint(spec: Mapping[str, Any]) -> tuple[str, int, str] | None:
    """Where TKEStack's API server listens: features.ha's VIP (tke keepalived, or a third-party load
    balancer with its vport), else the first machine on 6443."""
    ha = (spec.get("features") or {}).get("ha") or {}
    tke, third = ha.get("tke") or {}, ha.get("thirdParty") or {}
    if isinstance(tke, dict) and tke.get("vip"):
        return str(tke["vip"]), 6443, "spec.features.ha.tke.vip"
    if isinstance(third, dict) and third.get("vip"):
        return str(third["vip"]), _int(third.get("vport"), 6443), "spec.features.ha.thirdParty.vip"
    machines = spec.get("machines") or []
    if machines and isinstance(machines[0], dict) and machines[0].get("ip"):
        return str(machines[0]["ip"]), 6443, "spec.machines[0].ip (no HA VIP)"
    return None


def parse_cluster(text: str, source: str, *, schema: Mapping[str, Any]) -> ParsedCluster:
    """Parse and check a Cluster file; every schema and value problem comes back as a finding.

    Raises:
        YamlError: the text is not YAML at all (nothing more can be said about it).
    """
    fast = fast_load_plain(text)
    tree: Any = None
    if isinstance(fast, dict):
        plain: Any = fast
    else:
        tree = parse_yaml(text, source)
        plain = to_plain(tree)
    if not isinstance(plain, dict):
        return ParsedCluster(None, [Finding(Severity.ERROR, "expected a Cluster object (a mapping)", file=source,
                                            line=1, rule="cluster-schema",
                                            hint="start from examples/cluster.yaml")])
    plain, defaulted = apply_tkestack_defaults(plain)
    findings = _quick_check(plain, schema, source)
    if findings:
        tree = tree if tree is not None else parse_yaml(text, source)
        return ParsedCluster(None, validate_instance(plain, schema, file=source, source_root=tree,
                                                     rule="cluster-schema"))
    spec: dict[str, Any] = plain.get("spec") or {}
    feats: dict[str, Any] = spec.get("features") or {}
    version = str(spec.get("version", ""))
    runtime = str(feats["containerRuntime"])
    explicit = not any(d.path == ("spec", "features", "containerRuntime") for d in defaulted)
    network_args = {str(k): str(v) for k, v in (spec.get("networkArgs") or {}).items()}
    features = Features(
        enable_cilium=bool(feats.get("enableCilium", False)),
        network_mode="underlay" if network_args.get("networkMode") == "underlay" else "overlay",
        container_runtime=runtime,
        container_runtime_explicit=explicit,
        enable_metrics_server=bool(feats.get("enableMetricsServer", False)),
        gpu_type=feats.get("gpuType"),
        disabled_apps=tuple(feats.get("disabledApps") or ()),
        skip_conditions=tuple(dict.fromkeys(feats.get("skipConditions") or ())),
        ipv6_dual_stack=bool(feats.get("ipv6DualStack", False)),
    )
    apps: list[AppSpec] = []
    for index, entry in enumerate(spec.get("bootstrapApps") or []):
        app = _parse_app(index, entry["app"], text, source, findings)
        if app is not None:
            apps.append(app)
    meta = plain["metadata"]
    generated = "name" not in meta
    cluster = Cluster(
        name=str(meta["name"]) if not generated else f"{meta['generateName']}{GENERATED_NAME_SUFFIX}",
        generated_name=generated,
        defaulted=tuple(defaulted),
        version=version,
        features=features,
        apps=tuple(apps),
        cluster_cidr=_ipv4_part(_str(spec.get("clusterCIDR"), "10.244.0.0/16")),
        cluster_cidr_as_written=_str(spec.get("clusterCIDR"), "10.244.0.0/16"),
        max_cluster_service_num_set=not any(d.path == ("spec", "properties", "maxClusterServiceNum")
                                            for d in defaulted) and "maxClusterServiceNum" in (
                                                spec.get("properties") or {}),
        service_cidr=spec.get("serviceCIDR"),
        max_cluster_service_num=_int((spec.get("properties") or {}).get("maxClusterServiceNum"), 256),
        max_node_pod_num=_int((spec.get("properties") or {}).get("maxNodePodNum"), 256),
        kubelet_extra_args={str(k): str(v) for k, v in (spec.get("kubeletExtraArgs") or {}).items()},
        docker_extra_args={str(k): str(v) for k, v in (spec.get("dockerExtraArgs") or {}).items()},
        api_endpoint=_api_endpoint(spec),
        dns_domain=_str(spec.get("dnsDomain"), "cluster.local"),
        network_device=_str(spec.get("networkDevice"), "eth0"),
        network_args=network_args,
        source=source,
        tree=tree,
        text=text,
    )
    return ParsedCluster(cluster, findings)


def _parse_app(index: int, app: dict[str, Any], text: str, source: str, findings: list[Finding]) -> AppSpec | None:
    spec = app["spec"]
    chart = spec["chart"]
    meta = app.get("metadata") or {}
    values = spec.get("values") or {}
    base: list[str | int] = ["spec", "bootstrapApps", index, "app", "spec"]
    raw: dict[str, Any] = {}
    encoding = "none"
    if "rawValues" in values:
        where = base + ["values", "rawValues"]
        try:
            raw, encoding = decode_raw_values(values["rawValues"], values.get("rawValuesType", "yaml"),
                                              f"{source}: {json_path(where)}")
        except InputError as exc:
            line = line_of(parse_yaml(text, source), where)
            findings.append(Finding(Severity.ERROR, f"app `{spec.get('name') or chart['chartName']}`: {exc.message}",
                                    file=source, path=json_path(where), line=line, hint=exc.hint,
                                    rule="cluster-values"))
            return None
    return AppSpec(
        index=index,
        release=spec.get("name") or meta.get("name") or chart["chartName"],
        chart_name=chart["chartName"],
        namespace=spec.get("targetNamespace") or meta.get("namespace"),
        chart_group=chart.get("chartGroupName"),
        chart_version=chart.get("chartVersion"),
        repo_url=chart.get("repoURL"),
        raw_values=raw,
        raw_values_encoding=encoding,
        set_values=tuple(values.get("values") or ()),
        depends_on=tuple(spec.get("dependsOn") or ()),
        dry_run=bool(spec.get("dryRun", False)),
        take_over=bool(spec.get("takeOver", False)),
    )

"""TKEStack 1.8's own defaulting of a Cluster, applied before we validate it, and shown in the plan.

Pure. Facts from tkestack/tke v1.8.1; each rule names where TKEStack applies it:
- Go decoding: `""` and `null` in a struct field are the zero value, the same as leaving it out
  (TKEStack's types write many string fields without `omitempty`, so every stored Cluster has them).
  Inside free-form maps (`networkArgs`, labels, `*ExtraArgs`, ...) a `null` value decodes to `""`.
- api/platform/v1/defaults.go `SetDefaults_ClusterFeature`: `features.containerRuntime` "" → docker.
  Per our shared rule that default holds for the Kubernetes versions TKEStack 1.8 ships (1.19-1.21);
  above them containerd is taken (dockershim is gone from 1.24), with a warning naming the default.
- pkg/platform/registry/cluster/strategy.go `PrepareForCreate`: no name and no generateName →
  generateName `cls-`; `spec.dnsDomain` "" → cluster.local. (A bootstrap app's empty namespace stays
  empty: here an app without `targetNamespace` goes to its catalog namespace.)
- pkg/platform/provider/baremetal/cluster/provider.go `PreCreate`: `spec.version` →
  1.21.4-tke.1, `clusterCIDR` → 10.244.0.0/16, `networkDevice` → eth0, `properties.maxNodePodNum` →
  256, `properties.maxClusterServiceNum` → 256 unless `serviceCIDR` is set; and the implied skips:
  `EnsureCilium` unless Cilium is enabled, `EnsureGalaxy` when it is, `EnsureMetricsServer` unless
  metrics-server is enabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_VERSION",
    "GENERATED_NAME_SUFFIX",
    "TKESTACK_VERSIONS_TOP_MINOR",
    "Defaulted",
    "apply_tkestack_defaults",
]

DEFAULT_VERSION = "1.21.4-tke.1"
"""pkg/spec/spec.go K8sVersions[0]: what the baremetal provider fills in for an empty spec.version."""

TKESTACK_VERSIONS_TOP_MINOR = 21
"""The newest Kubernetes minor TKEStack 1.8 ships; its docker default applies up to here."""

GENERATED_NAME_SUFFIX = "<generated>"
"""Stands for the random part TKEStack appends to generateName; a plan under it is not the final name."""

# Free-form maps in TKEStack's types: their values are kept ("" is a value there), null becomes "".
_MAPS = frozenset({"labels", "annotations", "networkArgs", "dockerExtraArgs", "kubeletExtraArgs",
                   "apiServerExtraArgs", "controllerManagerExtraArgs", "schedulerExtraArgs", "hooks",
                   "oversoldRatio", "extraArgs", "nodeSelector"})
# Opaque to us: left exactly as written.
_OPAQUE = frozenset({"status", "rawValues"})


@dataclass(frozen=True)
class Defaulted:
    """One value TKEStack's rules filled in: where, what, and which TKEStack code sets it."""

    path: tuple[str | int, ...]
    value: Any
    rule: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form shown in the plan."""
        return {"path": ".".join(str(p) for p in self.path), "value": self.value, "rule": self.rule}


def _normalized(value: Any, key: str | None = None) -> Any:
    """`""`/`null` struct fields dropped as Go's decoder reads them; maps keep "" and read null as ""."""
    if key in _OPAQUE:
        return value
    if isinstance(value, dict):
        if key in _MAPS:
            return {k: ("" if v is None else v) for k, v in value.items()}
        out = {}
        for k, v in value.items():
            if v is None or v == "":
                continue
            out[k] = _normalized(v, str(k))
        return out
    if isinstance(value, list):
        return ["" if item is None else _normalized(item) for item in value]  # Go: null in a []T is T's zero
    return value


def _minor(version: str) -> int | None:
    parts = version.lstrip("v").split(".")
    if len(parts) >= 2 and parts[0] == "1" and parts[1].isdigit():
        return int(parts[1])
    return None


def apply_tkestack_defaults(obj: Mapping[str, Any]) -> tuple[dict[str, Any], list[Defaulted]]:
    """The Cluster as TKEStack would hold it after decoding and create-time defaulting, and what was
    filled in. Anything that is not a mapping where one is expected is left for the schema to report."""
    data = _normalized(dict(obj))
    filled: list[Defaulted] = []

    def put(target: dict[str, Any], key: str, value: Any, path: tuple[str | int, ...], rule: str) -> None:
        if key not in target:
            target[key] = value
            filled.append(Defaulted(path, value, rule))

    meta = data.get("metadata")
    if meta is None:
        meta = data["metadata"] = {}
    spec = data.get("spec")
    if not isinstance(meta, dict) or not isinstance(spec, dict):
        return data, filled
    if "name" not in meta:
        put(meta, "generateName", "cls-", ("metadata", "generateName"),
            "strategy.go PrepareForCreate: no name and no generateName")
    put(spec, "version", DEFAULT_VERSION, ("spec", "version"), "baremetal PreCreate: spec.version is empty")
    put(spec, "clusterCIDR", "10.244.0.0/16", ("spec", "clusterCIDR"), "baremetal PreCreate")
    put(spec, "networkDevice", "eth0", ("spec", "networkDevice"), "baremetal PreCreate")
    put(spec, "dnsDomain", "cluster.local", ("spec", "dnsDomain"), "strategy.go PrepareForCreate")
    props = spec.setdefault("properties", {})
    feats = spec.setdefault("features", {})
    if isinstance(props, dict):
        put(props, "maxNodePodNum", 256, ("spec", "properties", "maxNodePodNum"), "baremetal PreCreate")
        if "serviceCIDR" not in spec:
            put(props, "maxClusterServiceNum", 256, ("spec", "properties", "maxClusterServiceNum"),
                "baremetal PreCreate: no serviceCIDR")
    if not isinstance(feats, dict):
        return data, filled
    minor = _minor(str(spec.get("version", "")))
    if minor is not None and minor <= TKESTACK_VERSIONS_TOP_MINOR:
        put(feats, "containerRuntime", "docker", ("spec", "features", "containerRuntime"),
            "defaults.go SetDefaults_ClusterFeature (TKEStack's API default)")
    else:
        put(feats, "containerRuntime", "containerd", ("spec", "features", "containerRuntime"),
            "Kubernetes above TKEStack 1.8's versions: containerd (dockershim is gone from 1.24)")
    skips = feats.get("skipConditions")
    if skips is None or isinstance(skips, list):
        implied = ["EnsureGalaxy"] if feats.get("enableCilium") is True else ["EnsureCilium"]
        if feats.get("enableMetricsServer") is not True:
            implied.append("EnsureMetricsServer")
        current = list(skips or [])
        added = [name for name in implied if name not in current]
        if added:
            feats["skipConditions"] = current + added
            filled.append(Defaulted(("spec", "features", "skipConditions"), added,
                                    "baremetal PreCreate: implied by enableCilium / enableMetricsServer"))
    return data, filled

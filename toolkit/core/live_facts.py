"""What the cluster itself says, held against the Cluster file and the charts' needs. Pure.

Planning against a cluster reads its nodes (kernel, container runtime) and the API server's version;
these findings warn where the Cluster file disagrees with them and refuse a chart whose app cannot run
on the nodes (a kernel older than the chosen Cilium line needs)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from toolkit.core.chart_choice import server_skew_note
from toolkit.core.cluster import Cluster
from toolkit.core.findings import Finding, Severity
from toolkit.core.model import Action, ReleasePlan

__all__ = ["NodeFacts", "containerd_config_format", "kernel_tuple", "live_findings"]

_KERNEL = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")
_CONTAINERD = re.compile(r"^containerd://v?(\d+)\.(\d+)")
_RANCHER = re.compile(r"-(k3s|rke2)", re.IGNORECASE)


def containerd_config_format(release: tuple[int, int]) -> int:
    """The config.toml version containerd `release` reads natively: 2 up to 1.7, 3 for 2.0-2.3, 4 after."""
    return 2 if release < (2, 0) else 3 if release < (2, 4) else 4


@dataclass(frozen=True)
class NodeFacts:
    """One node as its kubelet reports it (`status.nodeInfo`)."""

    name: str
    kernel: str
    runtime: str  # containerRuntimeVersion, e.g. containerd://1.6.20 or docker://19.3.14


def kernel_tuple(text: str) -> tuple[int, int, int] | None:
    """`5.15.0-91-generic` → (5, 15, 0); None when it is not a kernel version."""
    found = _KERNEL.match(text.strip())
    return (int(found[1]), int(found[2]), int(found[3] or 0)) if found else None


def _names(nodes: Sequence[NodeFacts]) -> str:
    shown = ", ".join(n.name for n in nodes[:5])
    return shown + (f" and {len(nodes) - 5} more" if len(nodes) > 5 else "")


def live_findings(cluster: Cluster, plan: ReleasePlan, nodes: Sequence[NodeFacts], server_version: str) -> list[Finding]:
    """Warnings where the Cluster file disagrees with the live cluster; errors where a planned chart
    cannot run on its nodes."""
    findings: list[Finding] = []
    skew = server_skew_note(cluster, server_version) if server_version else None
    if skew:
        findings.append(cluster.finding(skew, ["spec", "version"], severity=Severity.WARNING, rule="live-version"))
    wanted = cluster.features.container_runtime
    other = [n for n in nodes if n.runtime and not n.runtime.startswith(f"{wanted}://")]
    if other:
        runtimes = sorted({n.runtime.split("://", 1)[0] for n in other})
        findings.append(cluster.finding(
            f"containerRuntime is `{wanted}` but node(s) {_names(other)} run {', '.join(runtimes)}",
            ["spec", "features", "containerRuntime"], severity=Severity.WARNING, rule="live-runtime",
            hint="set containerRuntime to what the nodes run (the runtime's configuration follows it), or migrate the "
                 "nodes first"))
    findings.extend(_containerd_findings(cluster, plan, nodes))
    for release in plan.releases:
        needed = kernel_tuple(release.min_kernel) if release.min_kernel else None
        if needed is None or release.action not in (Action.INSTALL, Action.UPGRADE):
            continue
        old = [n for n in nodes if (k := kernel_tuple(n.kernel)) is not None and k < needed]
        if old:
            findings.append(cluster.finding(
                f"release `{release.name}`: {release.chart} {release.version} needs Linux {release.min_kernel} or "
                f"newer; node(s) {_names(old)} run {', '.join(sorted({n.kernel for n in old}))}",
                ["spec", "version"], rule="live-kernel",
                hint="upgrade those nodes' kernels first (or run the Cluster on a Kubernetes version whose line of "
                     "the app supports them)"))
    return findings


def _containerd_findings(cluster: Cluster, plan: ReleasePlan, nodes: Sequence[NodeFacts]) -> list[Finding]:
    """containerd-config against the nodes' containerd: k3s/RKE2 nodes, and a config format the oldest
    node cannot read (1.x ignores a version 3 file's CRI sections; 2.0-2.3 refuse version 4)."""
    planned = [r for r in plan.releases if r.app == "containerd-config" and r.action in (Action.INSTALL, Action.UPGRADE)]
    if not planned:
        return []
    release = planned[0]
    path = ["spec", "features", "containerRuntime"]
    findings: list[Finding] = []
    rancher = [n for n in nodes if n.runtime.startswith("containerd://") and _RANCHER.search(n.runtime)]
    if rancher:
        findings.append(cluster.finding(
            f"release `{release.name}`: node(s) {_names(rancher)} run k3s/RKE2's containerd "
            f"({rancher[0].runtime}); containerd-config's installer refuses them", path, rule="live-containerd",
            hint="add containerd-config to spec.features.disabledApps and configure registries in k3s/RKE2's "
                 "registries.yaml"))
    versions = sorted((int(m[1]), int(m[2]), n.name) for n in nodes if (m := _CONTAINERD.match(n.runtime)))
    if not versions:
        return findings
    oldest = versions[0][:2]
    text = str(release.values.get("containerdVersion", "1.7"))
    configured = kernel_tuple(text)
    if configured is None:
        return findings
    wanted = f"{oldest[0]}.{oldest[1]}"
    if containerd_config_format(configured[:2]) > containerd_config_format(oldest):
        findings.append(cluster.finding(
            f"release `{release.name}`: containerdVersion {text} renders config version "
            f"{containerd_config_format(configured[:2])}, which containerd {wanted} on node {versions[0][2]} cannot "
            "read", path, rule="live-containerd",
            hint=f"set containerd-config's containerdVersion to \"{wanted}\" (the oldest node's containerd)"))
    elif containerd_config_format(configured[:2]) < containerd_config_format(oldest):
        findings.append(cluster.finding(
            f"release `{release.name}`: the nodes run containerd {wanted} or newer but containerdVersion is {text}; "
            "containerd migrates the older format on every start, with a warning", path,
            severity=Severity.WARNING, rule="live-containerd",
            hint=f"set containerd-config's containerdVersion to \"{wanted}\""))
    return findings

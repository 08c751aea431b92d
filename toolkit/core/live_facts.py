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

__all__ = ["NodeFacts", "kernel_tuple", "live_findings"]

_KERNEL = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


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

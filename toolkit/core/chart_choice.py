"""Pick and load each wanted app's chart version: the chart source's versions, the app's chartVersion
(a version or a range), and the chart's own Kubernetes constraint (`kubeVersion`).

With no chartVersion the choice is the support matrix's rule: the newest version whose kubeVersion admits
the Cluster's Kubernetes. The reason for the choice is kept on the wanted app, so the plan can say which
line serves the Cluster and why (and a day-2 Kubernetes upgrade shows the app upgrades it brings)."""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.core.cluster import Cluster, kube_version
from toolkit.core.findings import Finding, Severity
from toolkit.core.matrix import KUBERNETES_MINORS
from toolkit.core.model import ChartInfo, ChartSource
from toolkit.core.semver_range import best_match
from toolkit.core.wanted import WantedApp
from toolkit.errors import InputError

__all__ = ["admits", "load_chart", "server_skew_note", "supported_version_findings"]


def admits(kube: str | None, version: tuple[int, int, int]) -> bool:
    """True when the kubeVersion range `kube` admits this Kubernetes version (no range admits all)."""
    if not kube:
        return True
    try:
        return best_match(kube, [".".join(map(str, version))]) is not None
    except InputError:
        return True  # a malformed kubeVersion is lint's business


def supported_version_findings(cluster: Cluster) -> list[Finding]:
    """A Cluster on a Kubernetes minor outside the support matrix: an error naming the supported range."""
    major, minor, _ = cluster.kube_version
    first, last = KUBERNETES_MINORS[0], KUBERNETES_MINORS[-1]
    if major == 1 and first <= minor <= last:
        return []
    return [cluster.finding(
        f"Kubernetes {cluster.version} is outside the versions this catalog supports (1.{first} to 1.{last})",
        ["spec", "version"], rule="kube-version",
        hint=f"set spec.version to a 1.{first}-1.{last} release; `tke-catalog matrix` shows what each app "
             "installs on each of them")]


def server_skew_note(cluster: Cluster, server_version: str) -> str | None:
    """A note when the API server's Kubernetes minor is not the Cluster's spec.version: charts are chosen
    for spec.version, while helm checks each chart's kubeVersion against the server."""
    try:
        server = kube_version(server_version.removeprefix("v"))
    except InputError:
        return None
    if server[:2] == cluster.kube_version[:2]:
        return None
    return (f"the API server runs Kubernetes {server_version} but the Cluster's spec.version is {cluster.version}: "
            f"chart lines are chosen for {cluster.version}, and helm refuses a chart whose kubeVersion excludes "
            f"{server_version}; set spec.version to what the cluster runs once its upgrade is done")


def _line(info: ChartInfo) -> str:
    app = f"app {info.app_version}, " if info.app_version else ""
    return f"{info.name} {info.version} ({app}kubeVersion {info.kube_version or 'any'})"


def load_chart(cluster: Cluster, charts: ChartSource, item: WantedApp, findings: list[Finding]) -> None:
    """Set `item.info` (and `item.choice`, why that version) or add the finding that explains why not."""
    spec = item.spec
    version_path = spec.path("spec", "chart", "chartVersion") if spec else ["spec"]
    where = spec.path("spec", "chart") if spec else ["spec"]
    try:
        versions = charts.versions(item.ref)
    except InputError as exc:
        findings.append(cluster.finding(f"release `{item.release}`: {exc.message}", where, rule="chart",
                                        hint=exc.hint))
        return
    if not versions:
        hint = ("check chartName and repoURL; the chart source in use must reach that repository"
                if item.ref.repo_url else "check the app's `chart:` path in the catalog")
        findings.append(cluster.finding(f"release `{item.release}`: no chart found at {item.ref.describe()}", where,
                                        rule="chart", hint=hint))
        return
    wanted_version = spec.chart_version if spec else None
    if not wanted_version and len(versions) > 1:
        _choose_for_kubernetes(cluster, charts, item, versions, findings)
        return
    chosen = _choose_version(wanted_version, versions)
    if isinstance(chosen, Finding):
        findings.append(cluster.finding(f"release `{item.release}`: {chosen.message}", version_path,
                                        rule="chart-version", hint=chosen.hint))
        return
    try:
        item.info = charts.load(item.ref, chosen)
    except InputError as exc:
        findings.append(cluster.finding(f"release `{item.release}`: {exc.message}", where, rule="chart", hint=exc.hint))
        return
    if wanted_version:
        item.choice = f"chartVersion {wanted_version} asks for it"
    kube = item.info.kube_version
    if kube and not admits(kube, cluster.kube_version):
        plain = ".".join(map(str, cluster.kube_version))
        findings.append(cluster.finding(
            f"release `{item.release}`: chart {item.info.name} {item.info.version} needs Kubernetes {kube}, "
            f"the Cluster runs {cluster.version}", version_path if wanted_version else ["spec", "version"],
            rule="kube-version",
            hint=(f"{item.info.kube_version_note}; " if item.info.kube_version_note else "")
            + f"run the Cluster on a Kubernetes version the chart admits, or pick a chart version that supports {plain}"
            + (f" (or leave `{item.key}` out of the Cluster)" if item.catalog is not None else "")))


def _choose_for_kubernetes(cluster: Cluster, charts: ChartSource, item: WantedApp, versions: Sequence[str],
                           findings: list[Finding]) -> None:
    """With no chartVersion asked for: the newest chart version whose kubeVersion admits the cluster."""
    lines: list[ChartInfo] = []
    remaining = list(versions)
    plain = ".".join(map(str, cluster.kube_version))
    while remaining:
        best = best_match("*", remaining)
        if best is None:
            break
        remaining.remove(best)
        try:
            info = charts.load(item.ref, best)
        except InputError:
            continue
        if admits(info.kube_version, cluster.kube_version):
            item.info = info
            skipped = "; ".join(f"{line.version} needs {line.kube_version}" for line in lines)
            item.choice = (f"the newest {info.name} line whose kubeVersion admits Kubernetes {plain}: {_line(info)}"
                           + (f" ({skipped})" if skipped else ""))
            return
        lines.append(info)
    ranges = ", ".join(f"{line.version} for {line.kube_version}" for line in lines) or "none could be read"
    findings.append(cluster.finding(
        f"release `{item.release}`: no {item.ref.chart_name} chart supports Kubernetes {cluster.version} "
        f"(versions: {ranges})", ["spec", "version"], rule="kube-version",
        hint=f"run the Cluster on a Kubernetes version one of them admits, or add a line of the chart for {plain}"
             + (" (or disable the app in spec.features.disabledApps)" if item.catalog is not None else "")))


def _choose_version(wanted: str | None, versions: Sequence[str]) -> str | Finding:
    available = ", ".join(versions[-8:])
    if not wanted:
        best = best_match("*", versions)
        return best if best is not None else versions[-1]
    if wanted in versions:
        return wanted
    try:
        best = best_match(wanted, versions)
    except InputError as exc:
        return Finding(Severity.ERROR, f"chartVersion `{wanted}` is not a version or range: {exc.message}",
                       hint=exc.hint or "write a version like 1.2.3 or a range like ~1.2")
    if best is None:
        return Finding(Severity.ERROR, f"no available version satisfies chartVersion `{wanted}` (available: {available})",
                       hint="widen the range or publish a matching chart version")
    return best

"""Pick and load each wanted app's chart version: the chart source's versions, the app's chartVersion
(a version or a range), and the chart's own Kubernetes constraint."""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.core.cluster import Cluster
from toolkit.core.findings import Finding, Severity
from toolkit.core.model import ChartInfo, ChartSource
from toolkit.core.wanted import WantedApp
from toolkit.errors import InputError

__all__ = ["load_chart"]


def load_chart(cluster: Cluster, charts: ChartSource, item: WantedApp, findings: list[Finding]) -> None:
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
        fitting = _newest_fitting(cluster, charts, item, versions)
        if fitting is not None:
            item.info = fitting  # the support matrix's rule: the newest version that admits the cluster
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
    kube = item.info.kube_version
    if kube:
        plain = ".".join(map(str, cluster.kube_version))
        if not _fits(kube, cluster):
            findings.append(cluster.finding(
                f"release `{item.release}`: chart {item.info.name} {item.info.version} needs Kubernetes {kube}, "
                f"the Cluster runs {cluster.version}", ["spec", "version"], rule="kube-version",
                hint=f"upgrade the Cluster's Kubernetes or pick a chart version that supports {plain}"))


def _fits(kube: str | None, cluster: Cluster) -> bool:
    from toolkit.core.semver_range import best_match

    if not kube:
        return True
    try:
        return best_match(kube, [".".join(map(str, cluster.kube_version))]) is not None
    except InputError:
        return True  # a malformed kubeVersion is lint's business


def _newest_fitting(cluster: Cluster, charts: ChartSource, item: WantedApp, versions: Sequence[str]) -> ChartInfo | None:
    """With no chartVersion asked for: the newest chart version whose kubeVersion admits the cluster."""
    from toolkit.core.semver_range import best_match

    remaining = list(versions)
    while remaining:
        best = best_match("*", remaining)
        if best is None:
            return None
        remaining.remove(best)
        try:
            info = charts.load(item.ref, best)
        except InputError:
            continue
        if _fits(info.kube_version, cluster):
            return info
    return None


def _choose_version(wanted: str | None, versions: Sequence[str]) -> str | Finding:
    from toolkit.core.semver_range import best_match

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

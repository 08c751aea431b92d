"""The version-matrix check of one chart: render it for each Kubernetes minor its kubeVersion admits
(helm's `--kube-version` and that minor's `--api-versions`, so `.Capabilities` is honest) and check
every object against that minor's API.

A chart whose templates never read `.Capabilities` renders the same for every minor, so it is rendered
once (for the oldest minor it admits) and those objects are checked against every admitted minor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from toolkit.adapters.api_specs import load_api_spec
from toolkit.adapters.helm import HelmLike
from toolkit.core.api_check import check_objects, group_by_minor
from toolkit.core.chart import ChartPackage
from toolkit.core.chart_choice import admits
from toolkit.core.cluster import kube_version
from toolkit.core.findings import Finding, Severity
from toolkit.core.matrix import KUBERNETES_MINORS, KUBERNETES_RELEASES
from toolkit.errors import HelmError

__all__ = ["admitted_minors", "api_findings", "reads_capabilities"]


def admitted_minors(package: ChartPackage, minors: Sequence[int] = KUBERNETES_MINORS) -> list[int]:
    """The minors (of `minors`) whose checked patch release the chart's kubeVersion admits."""
    kube = package.metadata.get("kubeVersion")
    return [m for m in minors if admits(str(kube) if kube else None, kube_version(KUBERNETES_RELEASES[m]))]


def reads_capabilities(package: ChartPackage) -> bool:
    """True when a template mentions `.Capabilities` (its output may differ per Kubernetes version)."""
    return any(name.startswith("templates/") and b"Capabilities" in data for name, data in package.files.items())


def api_findings(helm: HelmLike, folder: Path, package: ChartPackage, values: Mapping[str, Any], *,
                 label: str, minors: Sequence[int] = KUBERNETES_MINORS) -> list[Finding]:
    """Every problem the chart (with these values) has on the minors of `minors` it admits."""
    admitted = admitted_minors(package, minors)
    if not admitted:
        return []
    per_minor: dict[int, list[Finding]] = {}
    rendered: list[dict[str, Any]] | None = None
    for minor in admitted:
        spec = load_api_spec(minor)
        if rendered is None or reads_capabilities(package):
            try:
                rendered = helm.template(folder, package.name, "default", dict(values),
                                         kube_version=spec.release, api_versions=spec.api_versions())
            except HelmError as exc:
                per_minor[minor] = [Finding(Severity.ERROR, f"helm template: {exc.stderr or exc.message}",
                                            file=str(folder), rule="helm-template",
                                            hint="fix the template or values for this Kubernetes version")]
                rendered = None
                continue
        per_minor[minor] = check_objects(rendered, spec, file=str(folder))
    return group_by_minor(per_minor, label=label)

"""The `scheduler-config` verb: the kube-scheduler configuration a Cluster's planned apps need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.actions.apply_release import chart_folder
from toolkit.actions.plan import cluster_kube_version, run_plan
from toolkit.adapters.helm import HelmLike
from toolkit.core.cluster import kube_version
from toolkit.core.model import Action
from toolkit.core.scheduler_config import extenders_of, scheduler_configuration
from toolkit.core.yamldoc import parse_yaml, to_plain
from toolkit.errors import InputError

__all__ = ["SchedulerConfig", "scheduler_config"]


@dataclass(frozen=True)
class SchedulerConfig:
    """The merged configuration and, per extender, the release it comes from."""

    config: dict[str, Any]
    sources: tuple[tuple[str, str], ...]  # (release, urlPrefix)


def scheduler_config(cluster_path: Path, *, root: Path, helm: HelmLike,
                     kubeconfig: str = "/etc/kubernetes/scheduler.conf") -> SchedulerConfig:
    """Plan the Cluster offline, render each release it keeps with helm for the Cluster's Kubernetes, and
    merge the extenders their charts declare. Raises InputError when none does."""
    plan = run_plan(cluster_path, catalog_root=root).plan
    version = cluster_kube_version(cluster_path, root)
    extenders: list[dict[str, Any]] = []
    sources: list[tuple[str, str]] = []
    for release in plan.releases:
        folder = chart_folder(release, root)
        if folder is None or release.action in (Action.UNINSTALL, Action.CONFLICT):
            continue
        rendered = helm.template(folder, release.name, release.namespace, dict(release.values), kube_version=version)
        for entry in extenders_of(rendered, lambda text: to_plain(parse_yaml(text, f"{release.name}: extender.yaml"))):
            extenders.append(entry)
            sources.append((release.name, str(entry.get("urlPrefix", ""))))
    if not extenders:
        raise InputError(f"{cluster_path}: none of the Cluster's apps is a kube-scheduler extender",
                         hint="galaxy-ipam and gpu-manager (gpu-quota-admission) are; the default scheduler needs "
                              "no configuration otherwise")
    minor = kube_version(version)[1]
    return SchedulerConfig(scheduler_configuration(extenders, minor, kubeconfig=kubeconfig), tuple(sources))

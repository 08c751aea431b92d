"""The `images` verb: every container image the catalog (each chart, each variant) or a Cluster's plan
runs, read from helm's renderings, after the global image-registry switch (for air-gapped mirrors)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.actions.api_matrix import admitted_minors
from toolkit.actions.apply_release import chart_folder
from toolkit.actions.plan import cluster_kube_version, run_plan
from toolkit.adapters.chart_folder import load_chart_folder
from toolkit.adapters.files import read_tree
from toolkit.adapters.helm import HelmLike
from toolkit.adapters.project import find_chart_dirs
from toolkit.core.images import images_of
from toolkit.core.matrix import KUBERNETES_RELEASES
from toolkit.core.model import Action
from toolkit.core.values import merge_values
from toolkit.core.yamldoc import parse_yaml, to_plain

__all__ = ["ImageUse", "catalog_images", "plan_images"]


@dataclass(frozen=True)
class ImageUse:
    """One image and where it runs (`chart (variant): Kind/name container`)."""

    image: str
    where: tuple[str, ...]


def _collect(found: dict[str, list[str]]) -> list[ImageUse]:
    return [ImageUse(image, tuple(dict.fromkeys(where))) for image, where in sorted(found.items())]


def _registry_values(image_registry: str | None) -> dict[str, Any]:
    return {"global": {"imageRegistry": image_registry}} if image_registry else {}


def catalog_images(charts_dir: Path, helm: HelmLike, *, image_registry: str | None = None) -> list[ImageUse]:
    """Every image of every chart under `charts_dir`, for its defaults and each ci/ variant, rendered for
    the newest Kubernetes the chart admits."""
    found: dict[str, list[str]] = {}
    for folder in find_chart_dirs(charts_dir):
        package = load_chart_folder(folder)
        if package.is_library:
            continue  # renders nothing: its helpers run inside the charts that use them
        files = read_tree(folder, refused={})  # ci/ variants, even where .helmignore leaves them out
        minors = admitted_minors(package)
        kube = KUBERNETES_RELEASES[minors[-1]] if minors else None
        cases: list[tuple[str, Mapping[str, Any]]] = [("defaults", {})]
        for name in sorted(n for n in files if n.startswith("ci/") and n.endswith("-values.yaml")):
            cases.append((name, to_plain(parse_yaml(files[name].decode("utf-8", "replace"), f"{folder}/{name}",
                                                    version=(1, 1))) or {}))
        for label, values in cases:
            rendered = helm.template(folder, package.name, "default",
                                     merge_values(dict(values), _registry_values(image_registry)), kube_version=kube)
            for image, where in images_of(rendered):
                found.setdefault(image, []).append(f"{folder.name} ({label}): {where}")
    return _collect(found)


def plan_images(cluster_path: Path, *, root: Path, helm: HelmLike, image_registry: str | None = None) -> list[ImageUse]:
    """Every image the Cluster's planned releases run (from the catalog's charts), as the plan renders
    them (`--image-registry` is the planner's global switch)."""
    plan = run_plan(cluster_path, catalog_root=root, image_registry=image_registry).plan
    found: dict[str, list[str]] = {}
    kube = cluster_kube_version(cluster_path, root)
    for release in plan.releases:
        folder = chart_folder(release, root)
        if folder is None or release.action in (Action.UNINSTALL, Action.CONFLICT):
            continue
        for image, where in images_of(helm.template(folder, release.name, release.namespace, dict(release.values),
                                                    kube_version=kube)):
            found.setdefault(image, []).append(f"{release.name}: {where}")
    return _collect(found)

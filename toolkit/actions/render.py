"""What a plan's releases render to (`template`), and how that differs from what helm recorded as
installed (`diff --manifests`): helm renders, our core compares."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from toolkit.actions.apply_release import chart_folder
from toolkit.actions.registry_source import cached_archive_path
from toolkit.actions.session import ReleaseRecords
from toolkit.adapters.helm import HelmLike
from toolkit.core.manifest_diff import manifest_diff
from toolkit.core.model import Action, PlannedRelease, ReleasePlan
from toolkit.core.yamldoc import parse_yaml_all, to_plain
from toolkit.errors import InputError

__all__ = ["manifest_diffs", "rendered_releases"]


def _chart(release: PlannedRelease, root: Path, cache: Path) -> Path:
    chart = chart_folder(release, root) or cached_archive_path(cache, release.chart, release.version, release.digest)
    if not chart.exists():
        raise InputError(f"release {release.name}: chart {release.chart} {release.version} is not at hand",
                         hint="plan from the catalog's folders, or `tke-catalog pull` the chart first")
    return chart


def rendered_releases(plan: ReleasePlan, helm: HelmLike, root: Path, cache: Path, *, kube_version: str | None,
                      only: Collection[str] = ()) -> list[tuple[PlannedRelease, list[dict[str, Any]]]]:
    """Each release the plan keeps (not the uninstalls), in plan order, with the objects `helm template`
    renders for it from its chart and merged values; `only` limits it to those release names."""
    unknown = set(only) - {r.name for r in plan.releases}
    if unknown:
        raise InputError(f"no release {', '.join(sorted(unknown))} in the plan of Cluster {plan.cluster}",
                         hint="`tke-catalog plan CLUSTER.yaml` lists its releases")
    out = []
    for release in plan.releases:
        if release.action is Action.UNINSTALL or only and release.name not in only:
            continue
        out.append((release, helm.template(_chart(release, root, cache), release.name, release.namespace,
                                           dict(release.values), kube_version=kube_version)))
    return out


def manifest_diffs(rendered: list[tuple[PlannedRelease, list[dict[str, Any]]]],
                   records: ReleaseRecords) -> dict[str, str]:
    """`namespace/name` → the unified diff of helm's record of the release against its rendering (only
    releases that differ; a release not installed diffs against nothing)."""
    out = {}
    for release, objects in rendered:
        record = records.record(release.namespace, release.name)
        documents = parse_yaml_all(record.manifest, f"{release.name} manifest") if record and record.manifest else []
        installed = [plain for plain in map(to_plain, documents) if isinstance(plain, dict)]
        text = manifest_diff(installed, objects, f"{release.namespace}/{release.name}")
        if text:
            out[f"{release.namespace}/{release.name}"] = text
    return out

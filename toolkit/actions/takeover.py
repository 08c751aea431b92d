"""Taking a component over from what others applied: the workloads an install must recreate (same name,
a selector that cannot change) and the objects a catalog app `replaces:` (TKEStack's own manifests
under other names). The plan marks both in a release's `adopts`; apply deletes only what was marked
there, which the user consented to."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.adapters.helm import HelmLike
from toolkit.core.catalog import Catalog
from toolkit.core.helm_release import ReleaseObject
from toolkit.core.model import PlannedRelease
from toolkit.errors import OperationalError

if TYPE_CHECKING:
    from toolkit.actions.session import ReleaseRecords

__all__ = ["RECREATED", "REPLACED", "WORKLOADS", "delete_recreated", "delete_replaced", "replaced_objects"]

REPLACED = " (replaced: deleted after the install)"
"""How the plan marks an object the catalog says the release replaces (TKEStack's own manifests)."""
RECREATED = " (its selector differs, which cannot change: deleted, then created by the release)"
"""How the plan marks an existing workload helm cannot adopt in place (a different, immutable selector)."""
WORKLOADS = ("DaemonSet", "Deployment", "StatefulSet")
"""The kinds whose pod selector is immutable."""

_GONE_SECONDS = 60.0


def replaced_objects(release: PlannedRelease, catalog: Catalog) -> list[ReleaseObject]:
    """The objects the catalog app of `release` replaces (`replaces:`), in the release's namespace."""
    app = catalog.get(release.app)
    if app is None:
        return []
    return [ReleaseObject(o.api_version, o.kind, o.name, o.namespace or release.namespace) for o in app.replaces]


def delete_recreated(records: ReleaseRecords, helm: HelmLike, release: PlannedRelease, chart: Path,
                     progress: Callable[[str], None]) -> None:
    """Delete the existing workloads the plan marked RECREATED, waiting until they are gone, so that helm
    can create the chart's own (rendered again for their API versions)."""
    names = {entry.split(" ", 1)[0] for entry in release.adopts if entry.endswith(RECREATED)}
    if not names:
        return
    for obj in helm.template(chart, release.name, release.namespace, dict(release.values)):
        meta = obj.get("metadata") or {}
        key = f"{obj.get('kind')}/{meta.get('name')}"
        if key not in names:
            continue
        target = ReleaseObject(str(obj.get("apiVersion")), str(obj.get("kind")), str(meta.get("name")),
                               meta.get("namespace") or release.namespace)
        records.delete(target, release.namespace)
        deadline = time.monotonic() + _GONE_SECONDS
        while records.live(target, release.namespace) is not None:
            if time.monotonic() > deadline:
                raise OperationalError(f"release {release.name}: {key} was not deleted within {_GONE_SECONDS:.0f}s",
                                       hint="look for finalizers on it, then apply again")
            time.sleep(0.5)
        progress(f"{release.name}: deleted {key} (its selector differs from the chart's) to create it anew")


def delete_replaced(records: ReleaseRecords, release: PlannedRelease, catalog: Catalog,
                    progress: Callable[[str], None], fence: Callable[[], None]) -> None:
    """Delete the objects the plan marked REPLACED, once the release is installed (`fence` before each)."""
    consented = {entry.removesuffix(REPLACED) for entry in release.adopts if entry.endswith(REPLACED)}
    for obj in replaced_objects(release, catalog):
        if f"{obj.kind}/{obj.name}" in consented:
            fence()
            if records.delete(obj, release.namespace):
                progress(f"{release.name}: deleted {obj.kind}/{obj.name}, which it replaces")

"""The plan's data: where charts come from, what is installed, and the release plan itself.

Shared by the planner, the chart sources, apply and the saved-plan checks, so none of them needs the
planner to name a chart or a release.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from toolkit.core.findings import Finding

if TYPE_CHECKING:
    from toolkit.core.subcharts import SubchartInfo

__all__ = [
    "KUBE_VERSION_NOTE",
    "MIN_KERNEL",
    "HEALTHY_STATUSES",
    "Action",
    "ChartInfo",
    "ChartRef",
    "ChartSource",
    "InstalledRelease",
    "InstalledState",
    "PlannedRelease",
    "ReleasePlan",
]

HEALTHY_STATUSES = frozenset({"deployed", "succeeded"})
"""Helm release statuses that need no repair."""


class Action(enum.Enum):
    """What apply will do with a release."""

    INSTALL = "install"
    UPGRADE = "upgrade"
    UNINSTALL = "uninstall"
    NOOP = "noop"
    CONFLICT = "conflict"  # a same-name release tke-catalog does not own, and no consent to take it over


MIN_KERNEL = "tke-catalog.io/min-kernel"
"""The Chart.yaml annotation naming the oldest Linux kernel the app runs on (checked against the nodes
when planning against a cluster)."""

OPERATOR_STEP = "tke-catalog.io/operator-step"
"""The Chart.yaml annotation naming what an operator must do by hand after installing the chart (shown
under the release in the plan), e.g. wiring kube-scheduler to the chart's extender."""

KUBE_VERSION_NOTE = "tke-catalog.io/kube-version-note"
"""The Chart.yaml annotation that says why a chart's kubeVersion range ends where it does (shown in the
finding that refuses a Cluster outside it)."""


@dataclass(frozen=True)
class ChartRef:
    """Where a release's chart comes from: a catalog folder (`path`) or a repository (`repo_url`)."""

    app: str
    chart_name: str
    path: str | None = None
    repo_url: str | None = None
    lines: tuple[str, ...] = ()  # older lines' folders, next to `path`

    def describe(self) -> str:
        """`charts/platform/cilium` or `oci://reg/charts/foo`."""
        if self.repo_url:
            return f"{self.repo_url.rstrip('/')}/{self.chart_name}"
        return self.path or self.chart_name


@dataclass(frozen=True)
class ChartInfo:
    """One version of a chart: its content digest, default values, schema and Kubernetes constraint."""

    name: str
    version: str
    digest: str
    default_values: Mapping[str, Any] = field(default_factory=dict)
    schema: Mapping[str, Any] | None = None
    path: str = ""
    kube_version: str | None = None
    app_version: str = ""
    kube_version_note: str = ""  # why the chart's kubeVersion stops where it does (Chart.yaml annotation)
    min_kernel: str = ""  # the oldest Linux kernel the app runs on (Chart.yaml annotation), e.g. 4.19.57
    operator_step: str = ""  # what an operator must do by hand after installing it (Chart.yaml annotation)
    subcharts: tuple[SubchartInfo, ...] = ()  # from charts/, for validating their values as helm does


class ChartSource(Protocol):
    """Lists and loads chart versions (the catalog's folders, a directory of charts, an OCI registry)."""

    def versions(self, app: ChartRef) -> list[str]:
        """Every available version of the chart; empty when this source does not know it."""

    def load(self, app: ChartRef, version: str) -> ChartInfo:
        """One version of the chart; raises InputError or OperationalError when it cannot."""


@dataclass(frozen=True)
class InstalledRelease:
    """A release as it is on the cluster (or as the inventory recorded it)."""

    name: str
    namespace: str
    chart: str
    version: str
    digest: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    status: str = "deployed"
    revision: int = 0
    recorded_revision: int | None = None  # what our inventory says we left it at
    recorded_values: Mapping[str, Any] | None = None  # the values we installed it with (inventory)
    owner: str | None = None  # the Cluster named by our mark on helm's release Secret
    installed_by: str = ""  # helm's description of the current revision (who made it)
    missing_objects: tuple[str, ...] = ()  # `Kind/name` of objects of its manifest the cluster lacks
    live: bool = False  # read from helm's own records (values are the deployed ones), not only our inventory


@dataclass(frozen=True)
class InstalledState:
    """The installed releases and the names of those this toolkit installed for this Cluster.

    `inventory` holds `namespace/name` keys; None means every listed release is ours.
    """

    cluster: str = ""
    releases: tuple[InstalledRelease, ...] = ()
    inventory: frozenset[str] | None = None
    unowned: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """`namespace/name` of a release not yet installed → `Kind/name` of its objects that already exist
    without helm's ownership (kubeadm's CoreDNS, manifests TKEStack applied itself)."""

    def owned(self, release: InstalledRelease) -> bool:
        """True when tke-catalog installed this release for this Cluster: our inventory lists it, or our
        mark on helm's release record names this Cluster (a lost inventory is rebuilt from those)."""
        if self.inventory is None or f"{release.namespace}/{release.name}" in self.inventory:
            return True
        return bool(self.cluster) and release.owner == self.cluster


@dataclass(frozen=True)
class PlannedRelease:
    """One line of the plan. `values` are the real merged values (render them with `redact`)."""

    name: str
    namespace: str
    chart: str
    version: str
    digest: str
    action: Action
    wave: int
    depends_on: tuple[str, ...] = ()
    tier: int = 0  # the catalog tier it starts in (raised to its dependencies' highest), a start barrier
    reason: str = ""
    changed_values: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)
    app: str = ""
    critical: bool = False
    source: str = ""
    previous_version: str | None = None
    previous_digest: str | None = None
    provenance: Mapping[tuple[str | int, ...], str] = field(default_factory=dict, compare=False, repr=False)
    value_changes: tuple[tuple[str, Any, Any], ...] = ()  # (path, old, new), secrets redacted
    drift: tuple[str, ...] = ()  # what changed outside tke-catalog since we applied it
    foreign: str = ""  # for a release we did not install: who did (helm's description), when known
    take_over: bool = False  # the user consented to taking the foreign release over
    chosen_because: str = ""  # why this chart version (the line for the Cluster's Kubernetes)
    adopts: tuple[str, ...] = ()  # `Kind/name` of existing objects helm takes ownership of (with consent)
    min_kernel: str = ""  # the oldest Linux kernel the chart's app runs on (checked against live nodes)
    operator_step: str = ""  # what an operator must do by hand after the install (the chart says)
    derived: tuple[Any, ...] = ()  # values TKEStack computes from the Cluster (`features.Derived`), with sources


@dataclass(frozen=True)
class ReleasePlan:
    """Every release in wave order, and the non-error findings (warnings, notes) met on the way."""

    cluster: str
    releases: tuple[PlannedRelease, ...]
    findings: tuple[Finding, ...] = ()
    defaulted: tuple[Any, ...] = ()
    """What TKEStack's defaulting filled in (`toolkit.core.tkestack_defaults.Defaulted`), shown as a layer."""

    @property
    def has_changes(self) -> bool:
        """True when applying the plan would change anything."""
        return any(r.action is not Action.NOOP for r in self.releases)

    def get(self, name: str) -> PlannedRelease | None:
        """The planned release called `name`."""
        return next((r for r in self.releases if r.name == name), None)

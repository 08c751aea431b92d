"""apply's decisions, fast: the real run_apply, Inventory and ApplyLock over a recording helm fake and an
in-memory API. Each decision also has its test against the real API server and helm (test_apply*.py)."""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.fakes import FakeHelm, FakeKube, fake_session
from toolkit.actions.apply import ApplyOptions, ApplyResult, run_apply
from toolkit.adapters.helm import ReleaseInfo
from toolkit.adapters.kube.inventory import Inventory
from toolkit.core.chart import split_chart_label
from toolkit.errors import LockHeld, PlanRejected

PROJECT = Path(__file__).parent.parent / "fixtures" / "apply" / "project"
NAMES = ("node-config", "net", "dns", "addon-a", "addon-b")


class World:
    """One fixture project in a temporary folder, a fake helm and a fake API server."""

    def __init__(self, tmp: Path) -> None:
        self.root = tmp / "project"
        shutil.copytree(PROJECT, self.root)
        self.cache = tmp / "cache"
        self.helm = FakeHelm()
        self.kube = FakeKube()
        self.progress: list[str] = []

    @property
    def cluster_file(self) -> Path:
        return self.root / "cluster.yaml"

    def edit(self, old: str, new: str) -> None:
        text = self.cluster_file.read_text()
        assert old in text
        self.cluster_file.write_text(text.replace(old, new, 1))

    def apply(self, *, prune: bool = False, allow_critical_removal: bool = False, concurrency: int = 4,
              confirm: Callable[[object], bool] = lambda plan: True, take_over: frozenset[str] = frozenset(),
              rebuild_inventory: bool = False) -> ApplyResult:
        options = ApplyOptions(concurrency=concurrency, prune=prune, wait=False, take_over=take_over,
                               rebuild_inventory=rebuild_inventory)
        return run_apply(self.cluster_file, session=fake_session(self.helm, self.kube), root=self.root,
                         cache=self.cache, options=options,
                         allow_critical_removal=allow_critical_removal, confirm=confirm,
                         progress=self.progress.append)

    def inventory(self) -> list[str]:
        return sorted(r["name"] for r in Inventory(self.kube, "cls-apply").load()["releases"])  # type: ignore[arg-type]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def outcomes(result: ApplyResult) -> dict[str, str]:
    return {r.name: r.outcome.value for r in result.releases}


def order(helm: FakeHelm) -> list[str]:
    return [target.split("/")[1] for verb, target in helm.calls if verb == "upgrade_install"]


def test_from_scratch_in_dependency_order_then_a_noop(world: World) -> None:
    first = world.apply()
    assert outcomes(first) == dict.fromkeys(NAMES, "installed") and first.ok
    done = order(world.helm)
    assert done.index("net") < done.index("dns") and done.index("addon-a") < done.index("addon-b")
    assert world.inventory() == sorted(NAMES)
    assert world.kube.lease("tke-catalog-apply-cls-apply") is None  # released at the end

    world.helm.calls.clear()
    second = world.apply()
    assert set(outcomes(second).values()) == {"unchanged"}
    assert world.helm.verbs("upgrade_install", "uninstall", "rollback") == []
    assert set(world.helm.revisions().values()) == {1}


def test_failed_first_install_is_removed_and_its_dependents_skipped(world: World) -> None:
    world.helm.fail = {"addon-a"}
    result = world.apply()
    assert outcomes(result) == {"node-config": "installed", "net": "installed", "dns": "installed",
                                "addon-a": "failed", "addon-b": "skipped"}
    assert not result.ok
    assert ("uninstall", "addons/addon-a") in world.helm.calls  # a first install is removed, not rolled back
    assert "addon-b" not in order(world.helm)
    assert next(r for r in result.releases if r.name == "addon-b").because == "addon-a"
    assert world.inventory() == ["dns", "net", "node-config"]

    retry = world.apply()  # the next run resumes: only what is missing
    assert outcomes(retry) == {"node-config": "unchanged", "net": "unchanged", "dns": "unchanged",
                               "addon-a": "installed", "addon-b": "installed"}


def test_failed_upgrade_is_rolled_back(world: World) -> None:
    world.apply()
    world.edit("chartName: addon-a\n", "chartName: addon-a\n          values:\n            values:\n"
                                       "              - data.greeting=bonjour\n")
    world.helm.fail = {"addon-a"}
    result = world.apply()
    assert outcomes(result)["addon-a"] == "failed" and outcomes(result)["addon-b"] == "skipped"
    assert ("rollback", "addons/addon-a") in world.helm.calls
    assert ("uninstall", "addons/addon-a") not in world.helm.calls
    history = world.helm.releases[("addons", "addon-a")]
    assert [r.status for r in history] == ["superseded", "failed", "deployed"]
    assert history[-1].values == history[0].values  # back to what was installed


def test_pending_releases_left_by_a_killed_run_are_recovered_first(world: World) -> None:
    world.apply()
    world.helm.releases[("addons", "addon-a")][-1].status = "superseded"
    world.helm.install_as("addons", "addon-a", "addon-a-1.0.0", {"x": 1}, status="pending-upgrade")
    world.helm.releases.pop(("addons", "addon-b"))
    world.helm.install_as("addons", "addon-b", "addon-b-1.0.0", status="pending-install")
    world.helm.calls.clear()
    result = world.apply()
    assert set(result.recovered) == {"addons/addon-a", "addons/addon-b"}
    assert world.helm.calls.index(("rollback", "addons/addon-a")) < world.helm.calls.index(
        ("upgrade_install", "addons/addon-b"))
    assert ("uninstall", "addons/addon-b") in world.helm.calls
    assert outcomes(result)["addon-b"] == "installed"
    assert world.helm.releases[("addons", "addon-a")][-1].status == "deployed"


def test_removals_need_prune(world: World) -> None:
    world.apply()
    world.edit("  features:\n", "  features:\n    disabledApps: [dns]\n")
    kept = world.apply()
    assert outcomes(kept)["dns"] == "kept" and world.helm.verbs("uninstall") == []
    assert "dns" in world.inventory()
    pruned = world.apply(prune=True)
    assert outcomes(pruned)["dns"] == "uninstalled"
    assert world.helm.verbs("uninstall") == [("uninstall", "kube-system/dns")]
    assert "dns" not in world.inventory()


def test_critical_app_removal_is_refused_without_consent(world: World) -> None:
    world.apply()
    world.edit("  features:\n", "  features:\n    disabledApps: [net, dns]\n")
    world.helm.calls.clear()
    with pytest.raises(PlanRejected) as refused:
        world.apply(prune=True)
    assert any(f.rule == "critical-removal" for f in refused.value.findings)
    assert world.helm.verbs("upgrade_install", "uninstall", "rollback") == []
    allowed = world.apply(prune=True, allow_critical_removal=True)
    assert outcomes(allowed)["net"] == "uninstalled"
    calls = world.helm.verbs("uninstall")
    assert calls.index(("uninstall", "kube-system/dns")) < calls.index(("uninstall", "kube-system/net"))


def test_a_declined_plan_changes_nothing(world: World) -> None:
    from toolkit.errors import ApplyCancelled

    with pytest.raises(ApplyCancelled):
        world.apply(confirm=lambda plan: False)
    assert world.helm.verbs("upgrade_install") == [] and world.kube.writes() == []


def test_a_live_holder_of_the_lease_blocks_and_nothing_is_touched(world: World) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    world.kube.request("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", {
        "metadata": {"name": "tke-catalog-apply-cls-apply"},
        "spec": {"holderIdentity": "elsewhere/pid-1/abc", "leaseDurationSeconds": 30, "renewTime": now}})
    with pytest.raises(LockHeld, match="elsewhere/pid-1/abc"):
        world.apply()
    assert world.helm.calls == []


@pytest.mark.parametrize("holder, renewed", [
    ("{host}/pid-999999999/dead", "now"),          # a killed apply on this host: no need to wait
    ("elsewhere/pid-1/abc", "2020-01-01T00:00:00.000000Z"),  # a holder that stopped renewing long ago
])
def test_a_dead_or_expired_lease_is_taken_over(world: World, holder: str, renewed: str) -> None:
    import socket

    if renewed == "now":
        renewed = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    world.kube.request("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", {
        "metadata": {"name": "tke-catalog-apply-cls-apply"},
        "spec": {"holderIdentity": holder.format(host=socket.gethostname()), "leaseDurationSeconds": 30,
                 "renewTime": renewed}})
    assert world.apply().ok
    assert ("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/tke-catalog-apply-cls-apply") \
        in world.kube.requests


def test_concurrency_is_bounded(world: World) -> None:
    world.helm.delay = 0.05
    world.edit("    - app:\n        metadata:\n          name: addon-b",
               "    - app:\n        metadata:\n          name: addon-c\n        spec:\n          type: HelmV3\n"
               "          name: addon-c\n          targetNamespace: addons\n          chart:\n"
               "            chartGroupName: public\n            chartName: addon-c\n"
               "    - app:\n        metadata:\n          name: addon-b")
    assert world.apply(concurrency=1).ok
    assert world.helm.most_running == 1


@pytest.mark.parametrize("label, expected", [
    ("cilium-0.1.0", ("cilium", "0.1.0")),
    ("my-chart-1.2.0-rc.1", ("my-chart", "1.2.0-rc.1")),
    ("my-chart-1.2.0-rc.1+build.5", ("my-chart", "1.2.0-rc.1+build.5")),
    ("foo-2-1.0.0", ("foo-2", "1.0.0")),
    ("k8s-1.30-dashboard-1.0.0", ("k8s-1.30-dashboard", "1.0.0")),
    ("app-v2.0.0", ("app", "v2.0.0")),
    ("odd-1.2", ("odd", "1.2")),
])
def test_helm_chart_labels_split_where_the_version_starts(label: str, expected: tuple[str, str]) -> None:
    assert split_chart_label(label) == expected
    info = ReleaseInfo("r", "ns", 1, "deployed", label, "")
    assert (info.chart_name, info.chart_version) == expected


def test_a_prerelease_chart_is_a_noop_on_the_second_apply(world: World) -> None:
    chart = world.root / "charts" / "addons" / "addon-a" / "Chart.yaml"
    chart.write_text(chart.read_text().replace("version: 1.0.0", "version: 1.2.0-rc.1"))
    assert world.apply().ok
    assert world.helm.releases[("addons", "addon-a")][-1].chart == "addon-a-1.2.0-rc.1"
    world.helm.calls.clear()
    again = world.apply()
    assert outcomes(again)["addon-a"] == "unchanged"
    assert world.helm.verbs("upgrade_install") == []


def test_uninstalls_run_dependents_first(world: World) -> None:
    world.apply()
    for name in ("addon-b", "addon-a"):  # drop both bootstrap apps: addon-b depends on addon-a
        text = world.cluster_file.read_text()
        start = text.index(f"    - app:\n        metadata:\n          name: {name}")
        end = text.find("    - app:", start + 10)
        world.cluster_file.write_text(text[:start] + (text[end:] if end != -1 else ""))
    world.helm.delay = 0.05
    result = world.apply(prune=True)
    assert outcomes(result)["addon-a"] == "uninstalled" and outcomes(result)["addon-b"] == "uninstalled"
    calls = world.helm.verbs("uninstall", "uninstalled")
    assert calls.index(("uninstalled", "addons/addon-b")) < calls.index(("uninstall", "addons/addon-a"))

"""Benchmark `tke-catalog controller` on a fleet (run by hand, not in CI).

    .venv/bin/python bench/controller.py [--clusters 50] [--releases 15] [--servers 5] [--workers 4]
                                         [--apply-jobs 4] [--edits 20] [--helm PATH] [--skip-loop]

A management API server holding the Cluster objects (our CRD, from the controller's chart) and
`--servers` business API servers, each serving clusters ÷ servers Clusters whose `--releases` releases
live in per-Cluster namespaces (15 small catalog apps built from the apply fixture's addon chart; no
`--wait`). One controller process (the same command a pod runs) reconciles them all. Measured:

  - converge: from creating every Cluster to every Cluster Ready (target: 750 releases under 5 min);
  - no-op full resync: a restarted controller reconciling every Cluster with nothing to do: wall time,
    helm invocations, and those that write (target: under 5 s, zero writes);
  - edit-to-Ready: one value changed on one app of a Cluster, until Ready for that generation, `--edits`
    times on different Clusters: p50 and p95 (target: p50 under 5 s);
  - the reference: a sequential `helm upgrade --install` loop over the same releases with the same
    archives and values, into fresh namespaces of the same servers; the ratio of its time to converge's.

helm invocations are counted by a wrapper script the controller runs as its helm.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.controller.conftest import (  # noqa: E402
    CHART,
    CLUSTERS,
    NAMESPACE,
    PROJECT,
    app,
    cluster_object,
)
from tests.support.control_plane import ControlPlane  # noqa: E402
from tests.support.process import ServerProcess, binary  # noqa: E402
from toolkit.adapters.files import read_tree  # noqa: E402
from toolkit.core.archive import build_chart_archive  # noqa: E402
from toolkit.core.chart import parse_chart  # noqa: E402

WRITES = ("install", "upgrade", "uninstall", "rollback")


def bench_project(folder: Path, releases: int) -> list[str]:
    """A project with `releases` opt-in addon apps (copies of the fixture's addon-c chart); their names."""
    shutil.copytree(PROJECT, folder)
    names = [f"bench-{i:02d}" for i in range(releases)]
    source = folder / "charts" / "addons" / "addon-c"
    lines = ["apiVersion: tke-catalog/v1", "kind: Catalog", "apps:"]
    for name in names:
        target = folder / "charts" / "addons" / name
        shutil.copytree(source, target)
        chart = target / "Chart.yaml"
        chart.write_text(chart.read_text().replace("name: addon-c", f"name: {name}"))
        lines.append(f"  - {{name: {name}, chart: charts/addons/{name}, category: addon, tier: addon, namespace: addons}}")
    catalog = folder / "catalog" / "catalog.yaml"
    kept = [line for line in catalog.read_text().splitlines() if line.startswith("  - ")]
    catalog.write_text("\n".join(lines + [line.replace(", default: true", "") for line in kept]) + "\n")
    return names


def helm_wrapper(folder: Path, helm: Path) -> tuple[Path, Path]:
    """A helm that logs each invocation's verb, then runs the real one; (wrapper, its log)."""
    log = folder / "helm-calls.log"
    wrapper = folder / "helm"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> {log}\nexec {helm} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


def calls(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def ready_generation(obj: dict[str, Any] | None) -> int | None:
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return int(condition.get("observedGeneration") or 0)
    return None


def wait(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if result := condition():
                return result
        except Exception:  # noqa: BLE001 - an API server still starting (429) is "not yet"
            pass
        time.sleep(0.1)
    raise SystemExit(f"timed out after {timeout:.0f}s: {what}")


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path, helm: Path) -> None:
        self.args, self.work, self.helm = args, work, helm
        self.management = ControlPlane(work / "management", ttl=3600)
        self.servers = [ControlPlane(work / f"business-{i}", ttl=3600) for i in range(args.servers)]
        self.names = [f"cls-{i:03d}" for i in range(args.clusters)]
        self.root = work / "project"
        self.apps = bench_project(self.root, args.releases)
        self.wrapper, self.log = helm_wrapper(work, helm)
        self.home = work / "home"
        self.env = {**os.environ, "HELM_CONFIG_HOME": str(self.home / "config"), "HELM_CACHE_HOME": str(self.home / "cache"),
                    "HELM_DATA_HOME": str(self.home / "data"), "TKE_CATALOG_CACHE": str(self.home / "cache-tk"),
                    "KUBECONFIG": "", "NO_COLOR": "1"}

    def server_of(self, index: int) -> ControlPlane:
        return self.servers[index % len(self.servers)]

    def up(self) -> None:
        for plane in (self.management, *self.servers):
            plane.up()
        subprocess.run([str(self.helm), "install", "tke-catalog-controller", str(CHART), "--namespace", NAMESPACE,
                        "--create-namespace", "--kubeconfig", str(self.management.kubeconfig)],
                       check=True, capture_output=True, env=self.env, timeout=120)
        wait(lambda: self.management.api_exists(CLUSTERS), 30, "the Cluster CRD served")
        for index, name in enumerate(self.names):
            text = self.server_of(index).kubeconfig.read_text()
            self.management.api_create(f"/api/v1/namespaces/{NAMESPACE}/secrets", {
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-kubeconfig", "namespace": NAMESPACE},
                "data": {"value": base64.b64encode(text.encode()).decode()}})

    def down(self) -> None:
        for plane in (*self.servers, self.management):
            plane.down()

    def cluster_apps(self, name: str, edited: str = "") -> list[dict[str, Any]]:
        return [app(a, f"{name}-ns", f"data.edit={edited}") if edited and a == self.apps[0] else app(a, f"{name}-ns")
                for a in self.apps]

    def controller(self, label: str) -> ServerProcess:
        argv = ["timeout", "3600s", sys.executable, "-m", "toolkit", "controller", "--kubeconfig",
                str(self.management.kubeconfig), "--namespace", NAMESPACE, "--root", str(self.root), "--no-wait",
                "--timeout", "120s", "--resync", "1h", "--workers", str(self.args.workers),
                "--apply-jobs", str(self.args.apply_jobs), "--helm", str(self.wrapper), "--metrics-address", "127.0.0.1:0"]
        process = ServerProcess(label, argv, self.work / f"{label}.log", env=self.env)
        process.wait_until(lambda: "metrics and health on" in process.log.read_text(errors="replace"), timeout=60)
        return process

    def objects(self) -> dict[str, dict[str, Any]]:
        return {o["metadata"]["name"]: o for o in self.management.api_list(CLUSTERS)}

    def all_ready(self, generations: dict[str, int]) -> bool:
        objects = self.objects()
        return all(ready_generation(objects.get(n)) == g for n, g in generations.items())

    def metric(self, process: ServerProcess, name: str) -> float:
        """The sum of one metric's samples on the controller's /metrics."""
        url = re.search(r"metrics and health on (http://\S+)/metrics", process.log.read_text(errors="replace"))
        assert url is not None
        text = subprocess.run(["curl", "-s", f"{url.group(1)}/metrics"], capture_output=True, text=True).stdout
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(name) and not line.startswith("#"))

    def reconciles(self, process: ServerProcess) -> float:
        return self.metric(process, "tke_catalog_reconciles_total")

    def converge(self) -> tuple[float, dict[str, int]]:
        process = self.controller("controller-converge")
        try:
            started = time.perf_counter()
            generations = {}
            for name in self.names:
                created = self.management.api_create(CLUSTERS, cluster_object(name, self.cluster_apps(name)))
                generations[name] = int(created["metadata"]["generation"])
            wait(lambda: self.all_ready(generations), 1800, "every Cluster Ready")
            seconds = time.perf_counter() - started
            self.edit_latencies = self.edits(generations)
        finally:
            process.stop(timeout=60)
        return seconds, generations

    def edits(self, generations: dict[str, int]) -> list[float]:
        latencies = []
        for index in range(min(self.args.edits, len(self.names))):
            name = self.names[index * len(self.names) // max(1, self.args.edits)]
            started = time.perf_counter()
            patched = self.management._checked(
                "PATCH", f"{CLUSTERS}/{name}", data=json.dumps({"spec": {"bootstrapApps": self.cluster_apps(name, f"v{index}")}}),
                headers={"Content-Type": "application/merge-patch+json"})
            generation = int(patched["metadata"]["generation"])
            wait(lambda: ready_generation(self.objects().get(name)) == generation, 300, f"{name} Ready after its edit")
            latencies.append(time.perf_counter() - started)
            generations[name] = generation
        return latencies

    def resync(self) -> tuple[float, float, int, int]:
        """A restarted controller's first round over every Cluster, with nothing to do: (seconds from
        start until it owns every Cluster, seconds from then until every Cluster was reconciled, helm
        invocations, those that write)."""
        before = len(calls(self.log))
        started = time.perf_counter()
        process = self.controller("controller-resync")
        try:
            wait(lambda: self.metric(process, "tke_catalog_clusters_owned") >= len(self.names), 120, "every Cluster owned")
            owned = time.perf_counter()
            wait(lambda: self.reconciles(process) >= len(self.names), 600, "a reconcile of every Cluster")
            done = time.perf_counter()
        finally:
            process.stop(timeout=60)
        made = calls(self.log)[before:]
        return owned - started, done - owned, len(made), sum(1 for verb in made if verb in WRITES)

    def loop(self) -> float:
        """The same releases by a sequential `helm upgrade --install` loop, into fresh namespaces."""
        archives: dict[str, Path] = {}
        for name in self.apps:
            folder = self.root / "charts" / "addons" / name
            package = parse_chart(read_tree(folder), str(folder))
            archives[name] = self.work / f"{name}.tgz"
            archives[name].write_bytes(build_chart_archive(package.name, package.files))
        started = time.perf_counter()
        for index, cluster in enumerate(self.names):
            kubeconfig = str(self.server_of(index).kubeconfig)
            for name in self.apps:
                subprocess.run([str(self.helm), "upgrade", "--install", name, str(archives[name]), "--namespace",
                                f"loop-{cluster}", "--create-namespace", "--kubeconfig", kubeconfig, "--timeout", "120s"],
                               check=True, capture_output=True, env=self.env)
        return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=50)
    parser.add_argument("--releases", type=int, default=15)
    parser.add_argument("--servers", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--apply-jobs", type=int, default=4)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--helm", type=Path, default=None, help="the helm to run [default: the cached helm 3 build]")
    parser.add_argument("--skip-loop", action="store_true", help="leave out the reference helm loop")
    args = parser.parse_args()
    helm = args.helm or binary("helm")
    if helm is None:
        raise SystemExit("no helm: run scripts/setup.sh helm, or pass --helm PATH")
    releases = args.clusters * args.releases
    with tempfile.TemporaryDirectory(prefix="bench-controller-") as tmp:
        bench = Bench(args, Path(tmp), Path(helm))
        try:
            bench.up()
            print(f"{args.clusters} Clusters x {args.releases} releases = {releases} releases on {args.servers} "
                  f"business API servers; workers {args.workers}, apply-jobs {args.apply_jobs}, {os.cpu_count()} cores")
            converge, _ = bench.converge()
            print(f"converge:           {converge:8.1f} s to every Cluster Ready "
                  f"({releases / converge:.1f} releases/s; target under 300 s)")
            edits = bench.edit_latencies
            if edits:
                print(f"edit-to-Ready:      p50 {percentile(edits, 0.5):.2f} s, p95 {percentile(edits, 0.95):.2f} s "
                      f"over {len(edits)} edits (target p50 under 5 s)")
            claimed, seconds, invocations, writes = bench.resync()
            print(f"no-op full resync:  {seconds:8.1f} s for {args.clusters} Clusters, once a restarted controller owned "
                  f"them ({claimed:.1f} s after its start), {invocations} helm invocations, {writes} that write "
                  "(target under 5 s, 0 writes)")
            if not args.skip_loop:
                loop = bench.loop()
                print(f"helm loop:          {loop:8.1f} s for the same {releases} releases, one after another")
                print(f"ratio:              the controller converges {loop / converge:.1f}x faster than the loop")
        finally:
            bench.down()


if __name__ == "__main__":
    main()

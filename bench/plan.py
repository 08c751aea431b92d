"""Benchmark the planner (run by hand): a synthetic fleet in-process, then one CLI run as a subprocess.

    .venv/bin/python bench/plan.py [--clusters 1000] [--workers 2]

Each synthetic Cluster runs a Kubernetes minor from 1.19 to 1.36 (so the planner picks each app's chart
line from the support matrix) and has 15-25 apps (defaults plus catalog addons and custom charts), all values
validated against their chart schemas. Prints, each from a cold start (fresh caches):

* the fleet in this process on one thread (timed without tracemalloc, which slows Python 3-5x),
* peak traced memory, from a second in-process pass over the first 200 Clusters under tracemalloc,
* the fleet split over a process pool of `--workers` (the Clusters are independent),
* the wall time of `tke-catalog plan examples/cluster.yaml` including interpreter start-up (5 runs).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.actions.validate import load_schema  # noqa: E402
from toolkit.adapters.chart_dirs import CatalogChartSource, ChainedChartSource  # noqa: E402
from toolkit.adapters.project import load_catalog
from toolkit.core.cluster import parse_cluster  # noqa: E402
from toolkit.core.model import ChartInfo, ChartRef
from toolkit.core.plan import resolve_plan  # noqa: E402

ADDONS = ["cron-hpa", "tapp-controller", "persistent-event", "log-collector", "lbcf", "csi-operator",
          "volume-decorator", "prometheus"]
CUSTOM_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "additionalProperties": False,
    "properties": {"global": {"type": "object"}, "replicas": {"type": "integer", "minimum": 1},
                   "image": {"type": "object", "properties": {"tag": {"type": "string"}}},
                   "resources": {"type": "object"}},
}


class SyntheticRegistry:
    """Custom charts `svc-0` ... `svc-19`, each in five versions."""

    def versions(self, app: ChartRef) -> list[str]:
        return ["1.0.0", "1.1.0", "1.2.0", "1.2.3", "2.0.0"] if app.repo_url else []

    def load(self, app: ChartRef, version: str) -> ChartInfo:
        return ChartInfo(app.chart_name, version, "sha256:" + "ab" * 32,
                         {"replicas": 1, "image": {"tag": version}, "resources": {}}, CUSTOM_SCHEMA, "")


def cluster_text(i: int, rng: random.Random) -> str:
    cilium = rng.random() < 0.5
    apps = []
    for name in rng.sample(ADDONS, k=rng.randint(3, 8)):
        apps.append(f"""    - app:
        spec:
          name: {name}
          chart: {{chartName: {name}}}
""")
    for n in range(rng.randint(8, 13)):
        apps.append(f"""    - app:
        spec:
          name: svc-{n}
          targetNamespace: apps
          chart: {{chartName: svc-{n}, chartVersion: "~1.2", repoURL: oci://registry.example.com/charts}}
          values:
            rawValues: |
              replicas: {rng.randint(1, 5)}
            values: ["image.tag=v{n}"]
""")
    return cluster_document(f"cls-{i:04d}", rng, cilium, "".join(apps))


def cluster_document(name: str, rng: random.Random, cilium: bool, apps: str) -> str:
    """A Cluster on a random Kubernetes minor (1.19-1.36) and pod CIDR, Cilium or Galaxy, with `apps`."""
    return f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata:
  name: {name}
spec:
  version: 1.{rng.randint(19, 36)}.{rng.randint(0, 9)}
  clusterCIDR: 10.{rng.randint(0, 255)}.0.0/16
  networkArgs:
    networkMode: {rng.choice(["overlay", "underlay"]) if cilium else "overlay"}
  features:
    enableCilium: {str(cilium).lower()}
    containerRuntime: containerd
    enableMetricsServer: {str(rng.random() < 0.7).lower()}
  bootstrapApps:
{apps}"""


_WORKER: dict[str, Any] = {}


def _setup() -> tuple[Any, dict[str, Any], ChainedChartSource]:
    return (load_catalog(ROOT), load_schema(ROOT, "cluster.schema.json"),
            ChainedChartSource([CatalogChartSource(ROOT), SyntheticRegistry()]))


def _plan_all(texts: list[str], first: int, setup: tuple[Any, dict[str, Any], ChainedChartSource]) -> int:
    catalog, schema, charts = setup
    releases = 0
    for n, text in enumerate(texts, start=first):
        parsed = parse_cluster(text, f"cluster-{n}.yaml", schema=schema)
        assert parsed.cluster is not None, parsed.findings
        releases += len(resolve_plan(parsed.cluster, catalog, charts).releases)
    return releases


def _worker_init() -> None:
    _WORKER["setup"] = _setup()


def _worker_plan(job: tuple[int, list[str]]) -> int:
    return _plan_all(job[1], job[0], _WORKER["setup"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="process pool size (0: skip the pool run)")
    parser.add_argument("--runs", type=int, default=5, help="single-plan subprocess runs")
    args = parser.parse_args()
    rng = random.Random(42)
    texts = [cluster_text(i, rng) for i in range(args.clusters)]

    start = time.perf_counter()
    cpu = time.process_time()
    releases = _plan_all(texts, 0, _setup())
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fleet, 1 thread:  {args.clusters} clusters, {releases} releases ({releases / args.clusters:.1f}/cluster) "
          f"in {elapsed:.2f} s (cpu {cpu:.2f} s) = {args.clusters / elapsed:.0f} clusters/s; max RSS {rss:.0f} MiB")

    sample = texts[:200]
    _clear_caches()
    tracemalloc.start()
    _plan_all(sample, 0, _setup())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory:           peak traced {peak / 2**20:.1f} MiB over {len(sample)} clusters (cold caches)")

    if args.workers > 0:
        size = max(1, len(texts) // (args.workers * 8))
        jobs = [(i, texts[i:i + size]) for i in range(0, len(texts), size)]
        start = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(args.workers, initializer=_worker_init) as pool:
            total = sum(pool.map(_worker_plan, jobs))
        elapsed = time.perf_counter() - start
        assert total == releases, (total, releases)
        print(f"fleet, {args.workers} procs:  {args.clusters} clusters in {elapsed:.2f} s = "
              f"{args.clusters / elapsed:.0f} clusters/s (pool start-up included)")

    exe = Path(sys.executable).with_name("tke-catalog")
    runs = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run([str(exe), "plan", str(ROOT / "examples/cluster.yaml"), "--catalog", str(ROOT)],
                       check=True, capture_output=True)
        runs.append(time.perf_counter() - t0)
    print(f"single plan (subprocess, wall incl. start-up): min {min(runs):.3f} s, "
          f"median {statistics.median(runs):.3f} s, max {max(runs):.3f} s")


def _clear_caches() -> None:
    """Forget what the previous pass memoized, so that each pass starts cold."""
    import importlib

    for module_name, names in (("toolkit.core.schema", ("_by_identity", "_by_digest", "_results")),
                               ("toolkit.core.plan", ("_BASES",)), ("toolkit.core.cluster", ("_split_cache",))):
        module = importlib.import_module(module_name)
        for name in names:
            cache = getattr(module, name, None)
            if isinstance(cache, dict):
                cache.clear()
    from toolkit.core import semver_range

    for name in ("parse_range", "parse_version", "_best_match"):
        clear = getattr(getattr(semver_range, name, None), "cache_clear", None)
        if clear is not None:
            clear()


if __name__ == "__main__":
    main()

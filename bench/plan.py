"""Benchmark the planner (run by hand): a synthetic fleet in-process, then one CLI run as a subprocess.

    .venv/bin/python bench/plan.py [--clusters 1000]

Each synthetic Cluster has 15-25 apps (defaults plus catalog addons and custom charts), all values
validated against their chart schemas. Prints clusters per second, peak memory and the wall time of one
`tke-catalog plan examples/cluster.yaml` including interpreter start-up.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.actions.validate import load_catalog, load_schema  # noqa: E402
from toolkit.chart_source import CatalogChartSource, ChainedChartSource  # noqa: E402
from toolkit.cluster import parse_cluster  # noqa: E402
from toolkit.plan import ChartInfo, ChartRef, resolve_plan  # noqa: E402

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
    return f"""apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata:
  name: cls-{i:04d}
spec:
  version: 1.30.{rng.randint(0, 9)}
  clusterCIDR: 10.{rng.randint(0, 255)}.0.0/16
  networkArgs:
    networkMode: {rng.choice(["overlay", "underlay"]) if cilium else "overlay"}
  features:
    enableCilium: {str(cilium).lower()}
    containerRuntime: containerd
    enableMetricsServer: {str(rng.random() < 0.7).lower()}
  bootstrapApps:
{"".join(apps)}"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clusters", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(42)
    texts = [cluster_text(i, rng) for i in range(args.clusters)]
    catalog = load_catalog(ROOT)
    schema = load_schema(ROOT, "cluster.schema.json")
    charts = ChainedChartSource([CatalogChartSource(ROOT), SyntheticRegistry()])

    tracemalloc.start()
    start = time.perf_counter()
    releases = 0
    for n, text in enumerate(texts):
        parsed = parse_cluster(text, f"cluster-{n}.yaml", schema=schema)
        assert parsed.cluster is not None, parsed.findings
        releases += len(resolve_plan(parsed.cluster, catalog, charts).releases)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fleet: {args.clusters} clusters, {releases} releases ({releases / args.clusters:.1f}/cluster) "
          f"in {elapsed:.2f} s = {args.clusters / elapsed:.0f} clusters/s; "
          f"peak traced {peak / 2**20:.1f} MiB, max RSS {rss:.0f} MiB")

    exe = Path(sys.executable).with_name("tke-catalog")
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([str(exe), "plan", str(ROOT / "examples/cluster.yaml"), "--catalog", str(ROOT)],
                       check=True, capture_output=True)
        runs.append(time.perf_counter() - t0)
    print(f"single plan (subprocess, wall incl. start-up): best {min(runs):.3f} s, worst {max(runs):.3f} s")


if __name__ == "__main__":
    main()

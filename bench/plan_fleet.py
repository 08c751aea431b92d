"""Benchmark planning a whole fleet in one run (run by hand): `tke-catalog plan DIR -o json`.

    .venv/bin/python bench/plan_fleet.py [--clusters 10000] [--jobs 2] [--loop-sample 20]

A project with the real catalog plus ten small service apps (the apply fixture's addon chart, with its
schema) and `--clusters` synthetic Cluster files: Kubernetes 1.19 to 1.36, Cilium or Galaxy, 20 apps
on average (defaults, catalog addons, services with values), every value validated. Measured, as
subprocesses with start-up included:

  - the fleet: `tke-catalog plan DIR -o json -j JOBS` into a file, wall time and peak memory (the
    largest process's RSS, and the whole process tree's, sampled every 20 ms);
  - the reference: one `tke-catalog plan FILE -o json` per Cluster, on `--loop-sample` files,
    extrapolated to the fleet.
Targets: 10,000 Clusters in under 10 s on 2 cores, peak RSS under 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from plan import cluster_document  # noqa: E402  (the same synthetic Clusters as bench/plan.py)

SERVICE_CHART = ROOT / "tests" / "fixtures" / "apply" / "project" / "charts" / "addons" / "addon-c"
ADDONS = ["cron-hpa", "tapp-controller", "persistent-event", "log-collector", "lbcf", "csi-operator",
          "volume-decorator", "prometheus"]
SERVICES = [f"svc-{n:02d}" for n in range(10)]


def project(folder: Path) -> Path:
    """The catalog, charts and schemas, plus the service apps."""
    for part in ("catalog", "charts", "schemas"):
        shutil.copytree(ROOT / part, folder / part)
    catalog = folder / "catalog" / "catalog.yaml"
    lines = [catalog.read_text().rstrip("\n")]
    for name in SERVICES:
        target = folder / "charts" / "addons" / name
        shutil.copytree(SERVICE_CHART, target)
        (target / "Chart.yaml").write_text((target / "Chart.yaml").read_text().replace("name: addon-c", f"name: {name}"))
        lines.append(f"  - {{name: {name}, chart: charts/addons/{name}, category: addon, tier: addon, namespace: apps}}")
    catalog.write_text("\n".join(lines) + "\n")
    return folder


def cluster_text(i: int, rng: random.Random) -> str:
    cilium = rng.random() < 0.5
    apps = [f"    - app:\n        spec: {{name: {name}, chart: {{chartName: {name}}}}}\n"
            for name in rng.sample(ADDONS, k=rng.randint(4, 8))]
    for name in rng.sample(SERVICES, k=rng.randint(8, 10)):
        apps.append(f"""    - app:
        spec:
          name: {name}
          targetNamespace: apps
          chart: {{chartName: {name}}}
          values:
            rawValues: |
              data: {{owner: team-{rng.randint(1, 40)}}}
            values: ["data.tier=t{rng.randint(1, 3)}"]
""")
    return cluster_document(f"cls-{i:05d}", rng, cilium, "".join(apps))


def tree_rss(pid: int) -> tuple[int, int]:
    """(largest RSS, sum of RSS) in KiB over `pid` and its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry)] = int(line.split()[1])
    seen, todo = [], [pid]
    while todo:
        current = todo.pop()
        seen.append(current)
        todo.extend(children.get(current, []))
    values = [rss.get(p, 0) for p in seen]
    return max(values, default=0), sum(values)


def run_fleet(argv: list[str], out: Path) -> tuple[float, int, int]:
    """Wall seconds, peak largest-process RSS and peak tree RSS (KiB) of one run."""
    peaks = [0, 0]
    with out.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.PIPE)  # noqa: S603
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                largest, total = tree_rss(process.pid)
                peaks[0], peaks[1] = max(peaks[0], largest), max(peaks[1], total)
                done.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, err = process.communicate()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ... exit {process.returncode}:\n{err.decode()[-3000:]}")
    return seconds, peaks[0], peaks[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--loop-sample", type=int, default=20)
    args = parser.parse_args()
    exe = str(Path(sys.executable).with_name("tke-catalog"))
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        work = Path(tmp)
        root = project(work / "project")
        clusters = work / "clusters"
        clusters.mkdir()
        rng = random.Random(7)
        for i in range(args.clusters):
            (clusters / f"cls-{i:05d}.yaml").write_text(cluster_text(i, rng))
        out = work / "plans.jsonl"
        env_note = f"{os.cpu_count()} cores, jobs {args.jobs}"
        seconds, largest, total = run_fleet([exe, "plan", str(clusters), "-o", "json", "-j", str(args.jobs),
                                             "--root", str(root)], out)
        documents = [json.loads(line) for line in out.read_text().splitlines()]
        releases = sum(len(d.get("releases") or []) for d in documents)
        refused = [d["file"] for d in documents if not d["ok"]]
        assert len(documents) == args.clusters and not refused, refused[:3]
        print(f"fleet:     {args.clusters} Clusters, {releases} releases ({releases / args.clusters:.1f}/Cluster) in "
              f"{seconds:.2f} s ({env_note}) = {args.clusters / seconds:.0f} Clusters/s (target: 10,000 under 10 s)")
        print(f"memory:    peak RSS {largest / 1024:.0f} MiB in the largest process, {total / 1024:.0f} MiB over all "
              f"{args.jobs + 1} processes (target under 500 MB)")
        files = sorted(clusters.iterdir())[:args.loop_sample]
        started = time.perf_counter()
        for path in files:
            subprocess.run([exe, "plan", str(path), "-o", "json", "--root", str(root)], check=True,  # noqa: S603
                           capture_output=True)
        each = (time.perf_counter() - started) / len(files)
        print(f"reference: one `plan FILE` per Cluster takes {each:.3f} s: {each * args.clusters:.0f} s for the fleet; "
              f"the fleet run is {each * args.clusters / seconds:.0f}x faster")


if __name__ == "__main__":
    main()

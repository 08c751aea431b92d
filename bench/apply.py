"""Benchmark `apply` against a sequential `helm upgrade --install` loop (run by hand, not in CI).

    .venv/bin/python bench/apply.py [--concurrency 4] [--helm PATH]...

With no --helm it runs once with each cached helm build (helm 3 and helm 4) and prints the ratios of both.

On two fresh local control planes (API server only; releases installed without --wait), the same
14 releases of the real catalog (every default of a Galaxy + containerd + metrics-server Cluster and
ten addons as bootstrap apps) are installed:
  - cold: `tke-catalog apply` vs a loop of `helm upgrade --install` (one release after another);
  - unchanged: `tke-catalog apply` again vs the same loop again, counting new helm revisions (with drift
    detection: helm's records and every object of every release checked; once more with --no-check-objects
    to show what the object check costs).
Both sides run as subprocesses with helm's and Python's start-up included. Targets: cold at least 1.5x
faster than the loop; unchanged at least 5x faster and zero new revisions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.control_plane import ControlPlane  # noqa: E402
from tests.support.process import binary  # noqa: E402
from toolkit.actions.plan import run_plan  # noqa: E402
from toolkit.adapters.files import read_tree  # noqa: E402
from toolkit.core.archive import build_chart_archive  # noqa: E402
from toolkit.core.chart import parse_chart  # noqa: E402
from toolkit.core.model import PlannedRelease  # noqa: E402

ADDONS = ("cron-hpa", "tapp-controller", "persistent-event", "log-collector", "lbcf", "volume-decorator",
          "csi-operator", "prometheus", "galaxy-ipam", "gpu-manager")


def cluster_file(folder: Path) -> Path:
    apps = "".join(
        f"    - app:\n        metadata: {{name: {name}}}\n        spec:\n          type: HelmV3\n          name: {name}\n"
        f"          targetNamespace: addons\n          chart: {{chartGroupName: public, chartName: {name}}}\n"
        for name in ADDONS)
    text = ("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nmetadata: {name: cls-bench}\nspec:\n"
            "  version: 1.30.2\n  clusterCIDR: 10.244.0.0/16\n  networkArgs: {backendType: vxlan}\n"
            "  features: {enableCilium: false, containerRuntime: containerd, enableMetricsServer: true}\n"
            f"  bootstrapApps:\n{apps}")
    path = folder / "cluster.yaml"
    path.write_text(text)
    return path


def run(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} ... failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def helm_revisions(helm: str, env: dict[str, str]) -> int:
    out = subprocess.run([helm, "list", "-A", "-o", "json"], env=env, capture_output=True, text=True, check=True)
    return sum(int(r["revision"]) for r in json.loads(out.stdout))


def bench_one(helm: str, args: argparse.Namespace, work: Path, cluster: Path,
              releases: list[PlannedRelease]) -> tuple[float, float, int, int]:
    """Both sides with one helm; returns (cold ratio, unchanged ratio, new revisions of the unchanged
    apply, of the unchanged loop)."""
    version = subprocess.run([helm, "version", "--template", "{{.Version}}"], capture_output=True, text=True,
                             check=True).stdout.strip()
    print(f"\n== helm {version} ({helm})")
    # the loop installs the same archives with the same values as apply
    loop: list[list[str]] = []
    for release in releases:
        package = parse_chart(read_tree(ROOT / release.source), release.source)
        archive = work / f"{release.chart}.tgz"
        archive.write_bytes(build_chart_archive(package.name, package.files))
        values = work / f"{release.name}.values.json"
        values.write_text(json.dumps(dict(release.values)))
        loop.append([helm, "upgrade", "--install", release.name, str(archive), "--namespace", release.namespace,
                     "--create-namespace", "--values", str(values), "--timeout", "120s"])
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HELM_", "KUBECONFIG"))}
    base.update({"HELM_CONFIG_HOME": str(work / "hc"), "HELM_CACHE_HOME": str(work / "hk"),
                 "HELM_DATA_HOME": str(work / "hd"), "TKE_CATALOG_HELM": helm,
                 "TKE_CATALOG_CACHE": str(work / "cache")})
    results: dict[str, float] = {}
    revisions: dict[str, int] = {}
    for side in ("helm-loop", "apply"):
        with ControlPlane(work / f"{side}-{version}", ttl=1800) as plane:
            env = dict(base, KUBECONFIG=str(plane.kubeconfig))
            phases = ("cold", "unchanged") if side == "helm-loop" else ("cold", "unchanged", "unchanged, no object check")
            for phase in phases:
                before = helm_revisions(helm, env)
                if side == "helm-loop":
                    seconds = sum(run(argv, env) for argv in loop)
                else:
                    extra = ["--no-check-objects"] if "no object check" in phase else []
                    seconds = run([str(ROOT / ".venv/bin/tke-catalog"), "apply", str(cluster), "--kubeconfig",
                                   str(plane.kubeconfig), "--root", str(ROOT), "--yes", "--no-wait",
                                   "--concurrency", str(args.concurrency), "--timeout", "120s", *extra], env)
                results[f"{side} {phase}"] = seconds
                revisions[f"{side} {phase}"] = helm_revisions(helm, env) - before
    print(f"{'step':<38}{'seconds':>10}{'new revisions':>16}")
    for key, seconds in results.items():
        print(f"{key:<38}{seconds:>10.2f}{revisions[key]:>16}")
    drift = results["apply unchanged"] - results["apply unchanged, no object check"]
    print(f"drift detection's object check costs {drift:+.2f}s on the unchanged apply")
    cold = results["helm-loop cold"] / results["apply cold"]
    warm = results["helm-loop unchanged"] / results["apply unchanged"]
    return cold, warm, revisions["apply unchanged"], revisions["helm-loop unchanged"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--helm", action="append", default=None, metavar="PATH",
                        help="a helm to bench with (repeatable) [default: the cached helm 3 and helm 4 builds]")
    args = parser.parse_args()
    helms = args.helm or [str(path) for path in (binary("helm"), binary("helm4")) if path is not None]
    if not helms:
        raise SystemExit("no helm: run scripts/setup.sh helm, or pass --helm PATH")
    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        work = Path(tmp)
        cluster = cluster_file(work)
        plan = run_plan(cluster, catalog_root=ROOT).plan
        releases = list(plan.releases)
        print(f"{len(releases)} releases, concurrency {args.concurrency}")
        summary = []
        for index, helm in enumerate(helms):
            folder = work / f"helm-{index}"
            folder.mkdir()
            summary.append((helm, *bench_one(helm, args, folder, cluster, releases)))
        print()
        for helm, cold, warm, applied, looped in summary:
            print(f"{helm}:\n  cold apply:      {cold:.1f}x faster than the helm loop (target >= 1.5x)")
            print(f"  unchanged apply: {warm:.1f}x faster than the helm loop (target >= 5x), "
                  f"{applied} new revisions vs {looped}")


if __name__ == "__main__":
    main()

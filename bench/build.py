"""Benchmark packaging the whole catalog (run by hand, not in CI): our build against a loop of `helm package`.

    .venv/bin/python bench/build.py [--repeat 5] [--helm ~/.cache/tke-catalog/bin/helm]

Each side packages every chart folder under charts/ into a fresh temp folder, `--repeat` times:

* ours in process: `build_charts(find_chart_dirs(charts), epoch=...)`, each archive written to disk;
* ours as a command: one `tke-catalog build` subprocess (interpreter start-up included);
* helm: one `helm package <folder> -d <out>` per chart, with HELM_* homes isolated in a temp folder.

Prints min and median seconds per side, the ratio against helm, and whether each side is reproducible
(every run's archives byte-identical: same sha256 for every file). Helm's are not: it stamps the time.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.actions.build import build_charts, find_chart_dirs  # noqa: E402

EPOCH = 1_700_000_000
Digests = dict[str, str]


def _digests(out: Path) -> Digests:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.tgz"))}


def ours_in_process(folders: list[Path], out: Path) -> None:
    for chart in build_charts(folders, epoch=EPOCH):
        (out / f"{chart.name}-{chart.version}.tgz").write_bytes(chart.archive)


def ours_command(folders: list[Path], out: Path) -> None:
    exe = Path(sys.executable).with_name("tke-catalog")
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
    subprocess.run([str(exe), "build", "--root", str(ROOT), "--out", str(out)], check=True, capture_output=True,
                   env=env, cwd=ROOT)


def helm_loop(helm: Path, homes: Path) -> Callable[[list[Path], Path], None]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HELM_")}
    env.update(HELM_CACHE_HOME=str(homes / "cache"), HELM_CONFIG_HOME=str(homes / "config"),
               HELM_DATA_HOME=str(homes / "data"), HELM_REGISTRY_CONFIG=str(homes / "registry.json"),
               HELM_REPOSITORY_CONFIG=str(homes / "repositories.yaml"),
               HELM_REPOSITORY_CACHE=str(homes / "repository"))

    def run(folders: list[Path], out: Path) -> None:
        for folder in folders:
            subprocess.run([str(helm), "package", str(folder), "-d", str(out)], check=True, capture_output=True,
                           env=env)

    return run


def measure(name: str, side: Callable[[list[Path], Path], None], folders: list[Path], repeat: int,
            scratch: Path) -> tuple[str, list[float], bool, int]:
    times: list[float] = []
    seen: list[Digests] = []
    for n in range(repeat):
        out = scratch / f"{name.replace(' ', '-')}-{n}"
        out.mkdir()
        start = time.perf_counter()
        side(folders, out)
        times.append(time.perf_counter() - start)
        seen.append(_digests(out))
        if n == 0 and name.startswith("helm"):
            time.sleep(1.1)  # helm stamps whole seconds: make sure the next run is in another second
    reproducible = all(d == seen[0] for d in seen[1:]) and bool(seen[0])
    return name, times, reproducible, len(seen[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--helm", type=Path, default=Path.home() / ".cache/tke-catalog/bin/helm")
    args = parser.parse_args()
    folders = find_chart_dirs(ROOT / "charts")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        scratch = Path(tmp)
        (scratch / "helm-home").mkdir()
        ours_in_process(folders, Path(tempfile.mkdtemp(dir=scratch)))  # warm-up: imports, first page cache
        rows = [
            measure("ours (in process)", ours_in_process, folders, args.repeat, scratch),
            measure("ours (tke-catalog build)", ours_command, folders, args.repeat, scratch),
            measure("helm package loop", helm_loop(args.helm, scratch / "helm-home"), folders, args.repeat, scratch),
        ]
    helm_median = statistics.median(rows[-1][1])
    print(f"{len(folders)} charts, {args.repeat} runs per side, load average {load:.1f} at start\n")
    header = f"{'side':<26} {'min s':>7} {'median s':>9} {'helm/side':>10}  {'archives':>8}  reproducible"
    print(header)
    print("-" * len(header))
    for name, times, reproducible, count in rows:
        median = statistics.median(times)
        print(f"{name:<26} {min(times):>7.3f} {median:>9.3f} {helm_median / median:>9.1f}x  {count:>8}  "
              f"{'yes' if reproducible else 'no'}")
    ratio = helm_median / statistics.median(rows[0][1])
    print(f"\nours in process is {ratio:.1f}x faster than the helm loop (target: 5x) -> "
          f"{'met' if ratio >= 5 else 'NOT met'}")


if __name__ == "__main__":
    main()

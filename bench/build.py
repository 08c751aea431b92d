"""Benchmark packaging the whole catalog (run by hand, not in CI): our build against a loop of `helm package`.

    .venv/bin/python bench/build.py [--repeat 5] [--helm ~/.cache/tke-catalog/bin/helm] [--set catalog|large|both]

Two sets: `catalog` (every chart folder under charts/) and `large` (five generated charts, each with a
5,000-line commented values.yaml and 200 templates: upstream-sized charts). Each side packages every
folder of a set into a fresh temp folder, `--repeat` times:

* ours in process: `build_charts(folders, epoch=..., metadata_only=True)` as `build` runs it, each archive
  written to disk;
* ours as a command: one `tke-catalog build FOLDER...` subprocess (interpreter start-up included);
* helm: one `helm package <folder> -d <out>` per chart, with HELM_* homes isolated in a temp folder.

Prints min and median seconds per side, the ratio against helm, and whether each side is reproducible
(every run's archives byte-identical: same sha256 for every file). Helm's are not: it stamps the time.
Targets: in process at least 5x faster than the helm loop on both sets; the command at least 3x on
the large set (per small chart, the interpreter's start-up alone exceeds helm's whole run).
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

from toolkit.actions.build import build_charts  # noqa: E402
from toolkit.adapters.project import find_chart_dirs  # noqa: E402

EPOCH = 1_700_000_000
Digests = dict[str, str]


def _digests(out: Path) -> Digests:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.tgz"))}


def ours_in_process(folders: list[Path], out: Path) -> None:
    for chart in build_charts(folders, epoch=EPOCH, metadata_only=True):  # as `tke-catalog build` does
        (out / f"{chart.name}-{chart.version}.tgz").write_bytes(chart.archive)


def ours_command(folders: list[Path], out: Path) -> None:
    exe = Path(sys.executable).with_name("tke-catalog")
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)}
    subprocess.run([str(exe), "build", "--root", str(ROOT), *map(str, folders), "--out", str(out)], check=True,
                   capture_output=True, env=env, cwd=ROOT)


LARGE_CHARTS, VALUES_LINES, TEMPLATES = 5, 5000, 200


def _large_values(seed: int) -> str:
    """About VALUES_LINES lines of commented, nested values, the shape of an upstream chart's."""
    lines = ["# Default values, generated for the benchmark.", ""]
    block = 0
    while len(lines) < VALUES_LINES:
        lines += [f"## Component {block} of chart {seed}", f"component{block}:", "  # whether to run it",
                  "  enabled: true", f"  replicas: {block % 5 + 1}", "  image:",
                  f"    repository: registry.example.com/team/component-{block}", f'    tag: "1.{block}.{seed}"',
                  "    pullPolicy: IfNotPresent", "  resources:", "    limits: {cpu: 500m, memory: 256Mi}",
                  "  args:", *[f"    - --flag-{i}=value-{i}" for i in range(6)], "  annotations:",
                  *[f"    example.com/key-{i}: 'value {i} # not a comment'" for i in range(4)], ""]
        block += 1
    return "\n".join(lines[:VALUES_LINES]) + "\n"


def large_charts(root: Path) -> list[Path]:
    folders = []
    for n in range(LARGE_CHARTS):
        folder = root / f"large-{n}"
        (folder / "templates").mkdir(parents=True)
        (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: large-{n}\nversion: 1.0.{n}\n")
        (folder / "values.yaml").write_text(_large_values(n))
        for t in range(TEMPLATES):
            (folder / "templates" / f"cm-{t:03d}.yaml").write_text(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                f"  name: {{{{ .Release.Name }}}}-{t}\n  labels: {{app: {{{{ .Chart.Name | quote }}}}}}\n"
                f"data:\n  image: {{{{ .Values.component{t % 50}.image.repository | quote }}}}\n")
        folders.append(folder)
    return folders


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


def run_set(label: str, folders: list[Path], args: argparse.Namespace, scratch: Path) -> tuple[float, float]:
    """Measure the three sides on one set; print the table; return (in process, command) ratios."""
    ours_in_process(folders, Path(tempfile.mkdtemp(dir=scratch)))  # warm-up: imports, first page cache
    rows = [
        measure(f"{label} ours (in process)", ours_in_process, folders, args.repeat, scratch),
        measure(f"{label} ours (tke-catalog build)", ours_command, folders, args.repeat, scratch),
        measure(f"{label} helm package loop", helm_loop(args.helm, scratch / "helm-home"), folders, args.repeat,
                scratch),
    ]
    helm_median = statistics.median(rows[-1][1])
    print(f"\n{label}: {len(folders)} charts, {args.repeat} runs per side\n")
    header = f"{'side':<34} {'min s':>7} {'median s':>9} {'helm/side':>10}  {'archives':>8}  reproducible"
    print(header)
    print("-" * len(header))
    for name, times, reproducible, count in rows:
        median = statistics.median(times)
        print(f"{name:<34} {min(times):>7.3f} {median:>9.3f} {helm_median / median:>9.1f}x  {count:>8}  "
              f"{'yes' if reproducible else 'no'}")
    return helm_median / statistics.median(rows[0][1]), helm_median / statistics.median(rows[1][1])


def _verdict(what: str, ratio: float, target: float) -> str:
    return f"{what}: {ratio:.1f}x faster than the helm loop (target: {target:g}x) -> {'met' if ratio >= target else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--helm", type=Path, default=Path.home() / ".cache/tke-catalog/bin/helm")
    parser.add_argument("--set", dest="which", choices=("catalog", "large", "both"), default="both")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} at start")
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        scratch = Path(tmp)
        (scratch / "helm-home").mkdir()
        if args.which in ("catalog", "both"):
            in_process, _ = run_set("catalog", find_chart_dirs(ROOT / "charts"), args, scratch)
            verdicts.append(_verdict("catalog, in process", in_process, 5))
        if args.which in ("large", "both"):
            in_process, command = run_set("large", large_charts(scratch / "large"), args, scratch)
            verdicts += [_verdict("large, in process", in_process, 5), _verdict("large, tke-catalog build", command, 3)]
    print("\n" + "\n".join(verdicts))

if __name__ == "__main__":
    main()

"""Benchmark start-up (run by hand): each verb's `--help`, a single plan, against Python and click alone.

    .venv/bin/python bench/startup.py [--runs 10]

For `tke-catalog --help` and every `tke-catalog VERB --help`: the median wall time of `--runs` runs
(the installed console script, start-up included), how many modules `python -X importtime` shows it
importing and the slowest of them (cumulative). The references, measured in the same run: `python -c
pass` and `python -c "import click"` (the floor a click CLI cannot go under), and `helm --help` when a
helm is cached. Targets: `tke-catalog --help` under 0.08 s, every `VERB --help` under 0.10 s, a single
`tke-catalog plan examples/cluster.yaml` under 0.12 s (medians).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.process import binary  # noqa: E402
from toolkit.cli import _VERBS  # noqa: E402

PYTHON = sys.executable
EXE = str(Path(sys.executable).with_name("tke-catalog"))


def median_wall(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)  # noqa: S603
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def imports(args: list[str]) -> tuple[int, str]:
    """How many modules `-X importtime` lists for `tke-catalog ARGS`, and the slowest top-level one."""
    done = subprocess.run([PYTHON, "-X", "importtime", "-m", "toolkit", *args], capture_output=True, text=True,
                          check=False)  # noqa: S603
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        rows.append((int(cumulative), name.rstrip()))
    top = [(c, n.strip()) for c, n in rows if not n.startswith("  ")]
    slowest = max(top, default=(0, "-"))
    return len(rows), f"{slowest[1]} {slowest[0] / 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    floor = median_wall([PYTHON, "-c", "pass"], args.runs)
    click_floor = median_wall([PYTHON, "-c", "import click"], args.runs)
    print(f"python -c pass           {floor:6.3f} s")
    print(f"python -c 'import click' {click_floor:6.3f} s")
    helm = binary("helm")
    if helm is not None:
        print(f"helm --help              {median_wall([str(helm), '--help'], args.runs):6.3f} s")
    print(f"\n{'command':<34}{'median':>8}{'target':>8}{'x click':>9}{'modules':>9}  slowest import")
    rows = [("--help", ["--help"], 0.08)] + [(f"{verb} --help", [verb, "--help"], 0.10) for verb in _VERBS]
    rows.append(("plan examples/cluster.yaml", ["plan", str(ROOT / "examples" / "cluster.yaml"), "--root", str(ROOT)], 0.12))
    missed = []
    for label, argv, target in rows:
        wall = median_wall([EXE, *argv], args.runs)
        count, slowest = imports(argv)
        mark = "ok" if wall < target else "MISS"
        if wall >= target:
            missed.append(label)
        print(f"{label:<34}{wall:8.3f}{target:8.2f}{wall / click_floor:9.2f}{count:9d}  {slowest}  {mark}")
    print(f"\n{len(rows) - len(missed)} of {len(rows)} within target" + (f"; missed: {', '.join(missed)}" if missed else ""))


if __name__ == "__main__":
    main()

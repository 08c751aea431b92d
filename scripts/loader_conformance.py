"""By hand: build every chart of helm's own test data with us and with `helm package`, and compare.

    .venv/bin/python scripts/loader_conformance.py [--helm ~/.cache/tke-catalog/bin/helm] [--helm-src DIR]

The charts are the top-level chart folders under `pkg/**/testdata` and `cmd/**/testdata` of the helm
module in the Go module cache (what `scripts/setup.sh` downloaded to build helm). For each: does helm
package it, do we build it (the same answer is the point), and when both do, does `helm template` of
our archive print what it prints for helm's (a difference is listed, with helm's own folder rendering
as the tie-breaker). Exits 1 when helm and we disagree on any chart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def _helm_src() -> Path:
    cache = Path(subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip())
    found = sorted((cache / "helm.sh" / "helm").glob("v3@*"))
    if not found:
        sys.exit("no helm v3 module in the Go module cache: run scripts/setup.sh first")
    return found[-1]


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=120)  # noqa: S603


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--helm", type=Path, default=Path.home() / ".cache/tke-catalog/bin/helm")
    parser.add_argument("--helm-src", type=Path, default=None)
    args = parser.parse_args()
    src = args.helm_src or _helm_src()
    charts = sorted({p.parent for part in ("pkg", "cmd") for p in (src / part).rglob("testdata/**/Chart.yaml")
                     if "/charts/" not in str(p.relative_to(src))})
    ours_exe = Path(sys.executable).with_name("tke-catalog")
    disagree, render_diffs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SOURCE_DATE_EPOCH": "315532800", "HELM_CACHE_HOME": f"{tmp}/c",
               "HELM_CONFIG_HOME": f"{tmp}/g", "HELM_DATA_HOME": f"{tmp}/d"}
        for chart in charts:
            work = Path(tmp, "work")
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(chart, work / "c", symlinks=True)
            helm = _run([str(args.helm), "package", str(work / "c"), "-d", str(work / "h")], env)
            ours = _run([str(ours_exe), "build", str(work / "c"), "--out", str(work / "o")], env)
            name = chart.relative_to(src)
            if (helm.returncode == 0) != (ours.returncode == 0):
                disagree.append(f"{name}: helm {'packages' if helm.returncode == 0 else 'refuses'} it, we "
                                f"{'build' if ours.returncode == 0 else 'refuse'} it: {ours.stderr.strip()[:160]}")
            elif helm.returncode == 0:
                render = [_run([str(args.helm), "template", "r", str(next((work / d).glob("*.tgz")))], env).stdout
                          for d in ("o", "h")]
                if render[0] != render[1]:
                    folder = _run([str(args.helm), "template", "r", str(work / "c")], env).stdout
                    render_diffs.append(f"{name}: renders differently; ours {'=' if render[0] == folder else '!='} "
                                        f"helm's rendering of the folder, helm's package "
                                        f"{'=' if render[1] == folder else '!='} it")
    print(f"{len(charts)} charts of {src.name}: {len(charts) - len(disagree)} agree on packaging, "
          f"{len(disagree)} disagree")
    for line in disagree + render_diffs:
        print("  " + line)
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `publish` against a loop of `helm package` + `helm push` (run by hand, not in CI).

    .venv/bin/python bench/publish.py [--jobs 4]

Starts a local plain registry, then times, on the whole catalog (charts/platform/*, charts/addons/*):
a cold `tke-catalog publish` vs the helm loop into another repository path of the same registry, then
an unchanged re-publish vs the helm loop again. Both sides run as subprocesses, interpreter and helm
start-up included. Targets: cold no slower than helm, unchanged re-publish at least 10x faster.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.process import binary  # noqa: E402
from tests.support.registry import start_registry  # noqa: E402
from toolkit.actions.publish import pending_charts, publish, read_lock  # noqa: E402
from toolkit.adapters.project import find_chart_dirs  # noqa: E402
from toolkit.adapters.registry.client import open_registry  # noqa: E402
from toolkit.core.oci_reference import parse_oci_reference  # noqa: E402


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} ... failed:\n{result.stdout}\n{result.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    helm = binary("helm")
    if helm is None:
        raise SystemExit("helm not found: run scripts/setup.sh helm")
    folders = find_chart_dirs(ROOT / "charts")
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        work = Path(tmp)
        server = start_registry(work / "registry", "plain")
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
            env.update(HELM_CONFIG_HOME=str(work / "helm/config"), HELM_CACHE_HOME=str(work / "helm/cache"),
                       HELM_DATA_HOME=str(work / "helm/data"), HELM_REGISTRY_CONFIG=str(work / "helm/registry.json"),
                       DOCKER_CONFIG=str(work / "docker"))
            ours = [str(ROOT / ".venv/bin/tke-catalog"), "publish", "--root", str(ROOT), "--registry",
                    server.oci("ours"), "--plain-http", "--jobs", str(args.jobs), "--lock", str(work / "catalog.lock")]

            def helm_loop() -> None:
                for folder in folders:
                    out = work / "pkg"
                    _run([str(helm), "package", str(folder), "--destination", str(out)], env)
                    (archive,) = list(out.glob("*.tgz")) or [None]  # a line's folder (cilium@1.14) names no archive
                    assert archive is not None, folder
                    _run([str(helm), "push", str(archive), server.oci("helm"), "--plain-http"], env)
                    archive.unlink()

            def timed(step: str, func: object) -> float:
                started = time.perf_counter()
                func()  # type: ignore[operator]
                elapsed = time.perf_counter() - started
                print(f"  {step:<40} {elapsed:7.2f} s")
                return elapsed

            print(f"{len(folders)} charts, registry {server.oci('')}, jobs={args.jobs}")
            cold_ours = timed("tke-catalog publish (cold)", lambda: _run(ours, env))
            cold_helm = timed("helm package + push loop (cold)", helm_loop)
            warm_runs = [timed(f"tke-catalog publish (unchanged, run {n + 1})", lambda: _run(ours, env))
                         for n in range(5)]
            warm_ours = statistics.median(warm_runs)
            warm_helm = timed("helm package + push loop (again)", helm_loop)

            def in_process() -> None:
                target = parse_oci_reference(server.oci("ours"))
                client = open_registry(target.host, plain_http=True, pool_size=args.jobs)
                charts = pending_charts(folders, epoch=315532800, created_epoch=315532800,
                                        lock=read_lock(work / "catalog.lock"), registry=target)
                result = publish(charts, registry=client, target=target, created_epoch=315532800, jobs=args.jobs)
                assert all(c.action.value == "skipped" for c in result.charts), result

            warm_inproc = timed("publish action in-process (unchanged)", in_process)
            startup = timed("tke-catalog --help (start-up only)", lambda: _run(ours[:1] + ["--help"], env))
        finally:
            server.stop()
    print(f"cold:      helm / ours = {cold_helm / cold_ours:5.1f}x   (target >= 1x)")
    print(f"unchanged: helm / ours = {warm_helm / warm_ours:5.1f}x   (median of 5 runs of ours; target >= 10x)")
    print(f"unchanged, without CLI start-up: helm / ours = {warm_helm / warm_inproc:5.1f}x "
          f"(the CLI spends {startup:.2f} s importing before any work)")


if __name__ == "__main__":
    main()

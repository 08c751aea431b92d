"""The main job end to end on local defaults, as a newcomer would run it:

local registry + local control plane → lint → build → publish (catalog and a custom chart) → add the
custom app to a Cluster file → validate → apply → a day-2 edit → apply again → nothing left to do.

Every server binds to 127.0.0.1, lives in a temporary folder and is stopped at the end (or by its own
TTL if this script is killed). Run it through `bash scripts/demo.sh`, which provisions first.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.control_plane import ControlPlane, missing_binaries  # noqa: E402
from tests.support.process import BIN  # noqa: E402
from tests.support.registry import start_registry  # noqa: E402

TOOL = [str(ROOT / ".venv" / "bin" / "tke-catalog")]


def run(argv: list[str], env: dict[str, str], *, check: bool = True, show: list[str] | None = None) -> str:
    """Print the command (as a user would type it), run it, print its output."""
    print(f"\n$ {shlex.join(show or argv)}", flush=True)
    started = time.monotonic()
    done = subprocess.run(argv, env=env, cwd=ROOT, text=True, capture_output=True, check=False)
    output = (done.stdout + done.stderr).rstrip()
    if output:
        print(output)
    print(f"  (exit {done.returncode}, {time.monotonic() - started:.1f}s)", flush=True)
    if check and done.returncode != 0:
        raise SystemExit(f"demo step failed: {shlex.join(argv)}")
    return done.stdout


def main() -> None:
    realism = os.environ.get("TKE_CATALOG_DEMO_REALISM", "1") != "0" and not missing_binaries(realism=True)
    with tempfile.TemporaryDirectory(prefix="tke-catalog-demo-") as tmp:
        work = Path(tmp)
        env = dict(os.environ)
        env.update({"HELM_CONFIG_HOME": str(work / "helm" / "config"), "HELM_CACHE_HOME": str(work / "helm" / "cache"),
                    "HELM_DATA_HOME": str(work / "helm" / "data"), "TKE_CATALOG_HELM": str(BIN / "helm"),
                    "TKE_CATALOG_CACHE": str(work / "cache"), "SOURCE_DATE_EPOCH": "1764115200"})
        registry = start_registry(work / "registry", "plain")
        plane = ControlPlane(work / "control-plane", realism=realism, ttl=3600)
        try:
            print(f"registry:      {registry.oci('')} (plain HTTP, 127.0.0.1 only)")
            plane.up()
            print(f"control plane: {plane.server} ({plane.version()}, "
                  f"{'controllers + kwok node: pods become Ready' if realism else 'API server only'})")
            print(f"kubeconfig:    {plane.kubeconfig}")
            env["KUBECONFIG"] = str(plane.kubeconfig)
            charts, custom = registry.oci("charts"), registry.oci("custom")
            lock, cluster = work / "catalog.lock", work / "cluster.yaml"
            shutil.copy(ROOT / "examples" / "cluster.yaml", cluster)
            wait = ["--wait", "--timeout", "180s"] if realism else ["--no-wait"]
            kube = ["--kubeconfig", str(plane.kubeconfig)]

            run(TOOL + ["lint"], env)
            # TKEStack 1.8's two network shapes, planned offline: Galaxy, and Cilium underlay with BGP
            run(TOOL + ["plan", "examples/tkestack-galaxy.yaml"], env)
            run(TOOL + ["plan", "examples/tkestack-cilium-underlay.yaml"], env)
            run(TOOL + ["build", "--out", str(work / "out")], env)
            run(TOOL + ["publish", "--registry", charts, "--plain-http", "--lock", str(lock)], env)
            run(TOOL + ["publish", "--registry", custom, "--plain-http", "--lock", str(work / "custom.lock"),
                        "examples/charts/hello"], env)
            run(TOOL + ["publish", "--registry", charts, "--plain-http", "--lock", str(lock)], env,
                show=TOOL + ["publish", "--registry", charts, "--plain-http", "# again: every chart skipped"])
            run(TOOL + ["apps", "add", str(cluster), "hello", "--repo", custom, "--version", "^1.0", "--plain-http",
                        "--namespace", "demo", "--set", "message=hello TKEStack"], env)
            run(TOOL + ["validate", str(cluster), "--plain-http"], env)
            apply = TOOL + ["apply", str(cluster), *kube, "--registry", charts, "--plain-http", "--lock", str(lock),
                            "--yes", *wait]
            run(apply, env)
            run([str(BIN / "helm"), "list", "--all-namespaces"], env)

            print("\n--- day 2: change a value, trim a default, and apply again ---")
            run(TOOL + ["apps", "set", str(cluster), "hello", "--set", "message=changed on day 2", "--plain-http"], env)
            run(TOOL + ["apps", "disable", str(cluster), "metrics-server", "--plain-http"], env)
            run(apply + ["--prune"], env)
            run(apply + ["--prune"], env, show=apply + ["--prune", "# again: nothing to do"])
            run([str(BIN / "helm"), "list", "--all-namespaces"], env)
        finally:
            plane.down()
            registry.stop()
    print("\ndemo finished: servers stopped, temporary files removed")


if __name__ == "__main__":
    main()

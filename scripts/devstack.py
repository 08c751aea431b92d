"""Local servers for the demo, outside pytest.

    .venv/bin/python scripts/devstack.py cluster up [--realism] [--ttl SECONDS]
    .venv/bin/python scripts/devstack.py cluster status
    .venv/bin/python scripts/devstack.py cluster down

Servers run detached, each in its own session under coreutils `timeout`, so a forgotten devstack ends
itself after its TTL (default 2 hours). Each component keeps its PIDs, ports and files in
~/.cache/tke-catalog/devstack/<checkout>-<hash of its path>/<component>/ (under $TKE_CATALOG_CACHE when set;
$TKE_CATALOG_DEVSTACK names another folder), one stack per checkout; `down` stops exactly
the recorded processes, newest first. Add a component (e.g. `registry up|down`) with one function per
action and one entry in COMMANDS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.control_plane import ControlPlane, KubeApiError, missing_binaries  # noqa: E402
from tests.support.process import CACHE  # noqa: E402


def _default_stack() -> Path:
    """One stack per checkout: two clones never share (or tear down) each other's cluster."""
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
    return CACHE / "devstack" / f"{ROOT.name}-{digest}"


DEVSTACK = Path(os.environ["TKE_CATALOG_DEVSTACK"]) if os.environ.get("TKE_CATALOG_DEVSTACK") else _default_stack()
DEFAULT_TTL_SECONDS = 2 * 3600
STATE_FILE = "state.json"


# -- state shared by every component ----------------------------------------------------------------

def state_dir(component: str) -> Path:
    return DEVSTACK / component


def read_state(component: str) -> dict[str, Any] | None:
    path = state_dir(component) / STATE_FILE
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return state


def write_state(component: str, state: dict[str, Any]) -> None:
    path = state_dir(component) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def process_record(name: str, pid: int) -> dict[str, Any]:
    """What identifies a process we started: its PID and start time (so a reused PID is never killed)."""
    return {"name": name, "pid": pid, "start_time": _start_time(pid)}


def is_alive(record: dict[str, Any]) -> bool:
    start = _start_time(int(record["pid"]))
    return start is not None and start == record["start_time"] and not _is_zombie(int(record["pid"]))


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def stop_recorded(records: Sequence[dict[str, Any]], grace: float = 15.0) -> list[str]:
    """SIGTERM each recorded process group, newest first, then SIGKILL after `grace`; names stopped."""
    stopped = []
    for record in reversed(records):
        if not is_alive(record):
            continue
        pid = int(record["pid"])
        # Each server was started as a session (and process group) leader: the group is the PID.
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while is_alive(record) and time.monotonic() < deadline:
            time.sleep(0.1)
        if is_alive(record):
            _signal_group(pid, signal.SIGKILL)
        stopped.append(str(record["name"]))
    return stopped


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _remaining(state: dict[str, Any]) -> str:
    seconds = int(state["expires_at"] - time.time())
    return "TTL expired" if seconds <= 0 else f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s left"


# -- cluster ---------------------------------------------------------------------------------------

def cluster_up(args: argparse.Namespace) -> int:
    state = read_state("cluster")
    if state and all(is_alive(r) for r in state["processes"]):
        if bool(state["realism"]) != args.realism:
            print(f"a cluster is already running with realism={state['realism']}: "
                  "run `scripts/devstack.py cluster down` first", file=sys.stderr)
            return 1
        print(f"cluster already running ({_remaining(state)})", file=sys.stderr)
        print(state["kubeconfig"])
        return 0
    if state:
        stop_recorded(state["processes"])
    missing = missing_binaries(realism=args.realism)
    if missing:
        print(f"missing {', '.join(missing)}: run `scripts/setup.sh control-plane` first", file=sys.stderr)
        return 1
    folder = state_dir("cluster") / "run"
    for entry in folder.iterdir() if folder.is_dir() else ():
        if args.clean or entry.name != "etcd":  # the cluster's objects survive a restart unless --clean
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
    plane = ControlPlane(folder, realism=args.realism, ttl=args.ttl, keep_data=not args.clean)
    try:
        plane.up()  # stops what it started if anything fails
    except (RuntimeError, OSError, KubeApiError) as exc:
        print(f"cluster failed to start: {exc}\nlogs: {folder / 'logs'}", file=sys.stderr)
        return 1
    now = time.time()
    write_state("cluster", {
        "realism": args.realism,
        "started_at": now,
        "expires_at": now + args.ttl,
        "server": plane.server,
        "kubeconfig": str(plane.kubeconfig),
        "ca": str(plane.ca),
        "admin_cert": str(plane.admin.cert),
        "admin_key": str(plane.admin.key),
        "ports": plane.ports,
        "logs": str(folder / "logs"),
        "processes": [process_record(name, pid) for name, pid in plane.pids()],
    })
    print(f"cluster up in {plane.startup_seconds:.1f}s at {plane.server} "
          f"({'realism' if args.realism else 'API server only'}; TTL {args.ttl}s)",
          file=sys.stderr)
    print(plane.kubeconfig)
    return 0


def cluster_down(args: argparse.Namespace) -> int:
    state = read_state("cluster")
    if state is None:
        print("no cluster recorded", file=sys.stderr)
        return 0
    stopped = stop_recorded(state["processes"])
    if args.clean:
        shutil.rmtree(state_dir("cluster") / "run" / "etcd", ignore_errors=True)
    (state_dir("cluster") / STATE_FILE).unlink()
    print(f"stopped {', '.join(stopped) if stopped else 'nothing (already gone)'}", file=sys.stderr)
    return 0


def cluster_status(args: argparse.Namespace) -> int:
    state = read_state("cluster")
    if state is None:
        print("cluster: not running")
        return 1
    alive = {r["name"]: is_alive(r) for r in state["processes"]}
    ready = all(alive.values()) and _readyz(state)
    print(f"cluster: {'ready' if ready else 'NOT READY'} at {state['server']} "
          f"(realism={state['realism']}, {_remaining(state)})")
    for record in state["processes"]:
        port = state["ports"].get(record["name"])
        print(f"  {record['name']:<24} pid {record['pid']:<8} {'running' if alive[record['name']] else 'gone'}"
              + (f"  port {port}" if port else ""))
    print(f"  kubeconfig {state['kubeconfig']}\n  logs       {state['logs']}")
    return 0 if ready else 1


def _readyz(state: dict[str, Any]) -> bool:
    import requests

    with requests.Session() as session:
        session.trust_env = False
        try:
            answer = session.get(state["server"] + "/readyz", cert=(state["admin_cert"], state["admin_key"]),
                                 verify=state["ca"], timeout=5)
        except requests.RequestException:
            return False
        return answer.status_code == 200


# -- dispatch --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    """One action of one component: the function to run and its own command-line options."""

    run: Callable[[argparse.Namespace], int]
    help: str
    options: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = field(default=())


TTL_OPTION = (("--ttl",), {"type": int, "default": DEFAULT_TTL_SECONDS,
                           "help": f"seconds before the servers stop themselves (default {DEFAULT_TTL_SECONDS})"})

COMMANDS: dict[str, dict[str, Command]] = {
    "cluster": {
        "up": Command(cluster_up, "start etcd + kube-apiserver detached; print the kubeconfig path", (
            (("--realism",), {"action": "store_true",
                              "help": "also controller-manager, scheduler, kwok and a fake Node"}),
            TTL_OPTION,
            (("--clean",), {"action": "store_true", "help": "start from empty etcd data (default: keep the cluster's objects)"}),
        )),
        "down": Command(cluster_down, "stop exactly the recorded processes (the etcd data stays unless --clean)", (
            (("--clean",), {"action": "store_true", "help": "also delete the etcd data"}),
        )),
        "status": Command(cluster_status, "show the recorded processes; exit 1 unless ready"),
    },
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="devstack.py", description=__doc__.split("\n\n")[0])
    components = top.add_subparsers(dest="component", required=True)
    for component, actions in COMMANDS.items():
        sub = components.add_parser(component).add_subparsers(dest="action", required=True)
        for action, command in actions.items():
            action_parser = sub.add_parser(action, help=command.help)
            for flags, options in command.options:
                action_parser.add_argument(*flags, **options)
            action_parser.set_defaults(run=command.run)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())

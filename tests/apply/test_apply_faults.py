"""apply under the faults an operator causes, against the real API server and the real helm: the Lease
deleted mid-apply, changes made by hand (rollback, values, a deleted object), a same-name release
installed with plain helm, a corrupt / emptied / unwritable inventory, a user who may not touch
namespaces, and helm killed from outside."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.apply.conftest import ApplyProject, outcomes, values_block
from toolkit.adapters.kube.inventory import inventory_name
from toolkit.errors import EXIT_CONFLICT, EXIT_OK, EXIT_OPERATIONAL

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def helm(project: ApplyProject, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(project.env.helm), *args, "--kubeconfig", str(project.env.kubeconfig)],
                          capture_output=True, text=True, env={**os.environ, **project.env.env}, timeout=120,
                          check=False)


def delete(project: ApplyProject, path: str) -> None:
    """DELETE as kubectl does by default (background: the basic tier runs no garbage collector, so a
    foreground delete would only mark the object)."""
    answer = project.env.control_plane._request("DELETE", path)
    assert answer.ok, answer.text


def live_plan(project: ApplyProject) -> dict[str, dict[str, object]]:
    """`plan --kubeconfig -o json --detailed-exitcode` against the cluster: release name -> its plan entry."""
    from click.testing import CliRunner

    from toolkit.cli import cli

    plan = CliRunner().invoke(cli, ["plan", str(project.cluster_file), "--root", str(project.root), "--kubeconfig",
                                    str(project.env.kubeconfig), "-o", "json", "--detailed-exitcode"])
    assert plan.exit_code == 2, plan.output  # changes pending
    return {str(r["name"]): r for r in json.loads(plan.stdout)["releases"]}


def history(project: ApplyProject, release: str, namespace: str) -> list[dict[str, object]]:
    out = helm(project, "history", release, "-n", namespace, "-o", "json")
    assert out.returncode == 0, out.stderr
    rows: list[dict[str, object]] = json.loads(out.stdout)
    return rows


def test_rollback_by_hand_is_drift_and_apply_repairs_it(project: ApplyProject) -> None:
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("data.greeting=bonjour"))
    assert project.apply().exit_code == EXIT_OK
    project.edit("data.greeting=bonjour", "data.greeting=hallo")
    assert project.apply().exit_code == EXIT_OK  # revision 2: hallo
    assert helm(project, "rollback", "addon-a", "1", "-n", project.addons).returncode == 0  # by hand: bonjour
    assert project.config(project.addons, "addon-a")["data"]["greeting"] == "bonjour"
    from click.testing import CliRunner

    from toolkit.cli import cli

    plan = CliRunner().invoke(cli, ["plan", str(project.cluster_file), "--root", str(project.root), "--kubeconfig",
                                    str(project.env.kubeconfig), "-o", "json", "--detailed-exitcode"])
    assert plan.exit_code == 2, plan.output
    entry = next(r for r in json.loads(plan.stdout)["releases"] if r["name"] == "addon-a")
    assert entry["changedOutsideTkeCatalog"] and any(c["path"] == "$.data.greeting" and c["old"] == "bonjour"
                                                     and c["new"] == "hallo" for c in entry["valueChanges"])
    repaired = project.apply()
    assert outcomes(repaired)["addon-a"] == "upgraded"
    assert project.config(project.addons, "addon-a")["data"]["greeting"] == "hallo"
    assert set(outcomes(project.apply()).values()) == {"unchanged"}


def test_values_changed_by_hand_are_reported_and_reverted(project: ApplyProject) -> None:
    assert project.apply().exit_code == EXIT_OK
    changed = helm(project, "upgrade", "addon-b", "--reuse-values", "--set", "data.extra=by-hand", "-n",
                   project.addons, str(project.root / "charts" / "addons" / "addon-b"))
    assert changed.returncode == 0, changed.stderr
    assert project.config(project.addons, "addon-b")["data"]["extra"] == "by-hand"
    entry = live_plan(project)["addon-b"]
    assert entry["changedOutsideTkeCatalog"]
    assert {"path": "$.data.extra", "old": "by-hand", "new": None} in entry["valueChanges"]  # type: ignore[operator]
    result = project.apply()
    assert outcomes(result)["addon-b"] == "upgraded"
    values = helm(project, "get", "values", "addon-b", "-n", project.addons, "-o", "json")
    assert "extra" not in json.loads(values.stdout)["data"]
    assert "extra" not in project.config(project.addons, "addon-b")["data"]
    assert set(outcomes(project.apply()).values()) == {"unchanged"}


def test_a_deleted_object_is_drift_and_apply_recreates_it(project: ApplyProject) -> None:
    assert project.apply().exit_code == EXIT_OK
    delete(project, f"/api/v1/namespaces/{project.addons}/configmaps/addon-b-config")
    assert project.config(project.addons, "addon-b") is None
    drift = live_plan(project)["addon-b"]["changedOutsideTkeCatalog"]
    assert any("ConfigMap/addon-b-config" in str(d) for d in drift), drift  # type: ignore[union-attr]
    result = project.apply()
    assert outcomes(result)["addon-b"] == "upgraded"
    assert project.config(project.addons, "addon-b") is not None
    assert set(outcomes(project.apply()).values()) == {"unchanged"}


def test_a_release_installed_with_plain_helm_is_never_taken_without_consent(project: ApplyProject) -> None:
    plain = helm(project, "install", "addon-a", str(project.root / "charts" / "addons" / "addon-a"), "-n",
                 project.addons, "--create-namespace", "--set", "data.greeting=theirs")
    assert plain.returncode == 0, plain.stderr
    refused = project.apply()
    assert refused.exit_code == EXIT_CONFLICT, refused.output
    assert outcomes(refused)["addon-a"] == "refused" and outcomes(refused)["addon-b"] == "skipped"
    assert project.config(project.addons, "addon-a")["data"]["greeting"] == "theirs"
    assert len(history(project, "addon-a", project.addons)) == 1
    assert "addon-a" not in {r["name"] for r in project.inventory()["releases"]}
    taken = project.apply("--take-over", "addon-a")
    assert taken.exit_code == EXIT_OK, taken.output
    assert outcomes(taken)["addon-a"] == "upgraded"
    assert project.config(project.addons, "addon-a")["data"]["greeting"] != "theirs"
    assert "addon-a" in {r["name"] for r in project.inventory()["releases"]}


def test_a_foreign_release_is_never_pruned(project: ApplyProject) -> None:
    assert project.apply().exit_code == EXIT_OK
    plain = helm(project, "install", "stranger", str(project.root / "charts" / "addons" / "addon-c"), "-n",
                 project.addons)
    assert plain.returncode == 0, plain.stderr
    assert project.apply("--prune").exit_code == EXIT_OK
    assert "stranger" in project.releases()


def _inventory_path(project: ApplyProject) -> str:
    return f"/api/v1/namespaces/kube-system/secrets/{inventory_name(project.cluster)}"


def test_an_emptied_inventory_is_rebuilt_without_new_revisions(project: ApplyProject) -> None:
    assert project.apply().exit_code == EXIT_OK
    delete(project, _inventory_path(project))
    rebuilt = project.apply()
    assert rebuilt.exit_code == EXIT_OK, rebuilt.output
    assert set(outcomes(rebuilt).values()) == {"recorded"}
    assert {r.revision for r in project.releases().values()} == {1}
    assert len(project.inventory()["releases"]) == 5


def test_a_corrupt_inventory_names_the_secret_and_the_repair(project: ApplyProject) -> None:
    assert project.apply().exit_code == EXIT_OK
    plane = project.env.control_plane
    secret = plane.api_get(_inventory_path(project))
    secret["data"]["inventory.json"] = base64.b64encode(b"[1, 2").decode()
    plane._checked("PUT", _inventory_path(project), json=secret)
    broken = project.apply()
    assert broken.exit_code == EXIT_OPERATIONAL
    assert inventory_name(project.cluster) in broken.stderr and "--rebuild-inventory" in broken.stderr
    assert "Traceback" not in broken.stderr and "unexpected" not in broken.stderr
    repaired = project.apply("--rebuild-inventory")
    assert repaired.exit_code == EXIT_OK, repaired.output
    assert len(project.inventory()["releases"]) == 5


def test_an_inventory_write_that_fails_after_helm_is_reported_installed_not_recorded(project: ApplyProject) -> None:
    assert project.apply().exit_code == EXIT_OK
    plane = project.env.control_plane
    secret = plane.api_get(_inventory_path(project))
    secret["immutable"] = True  # every later write to it fails on the real API server
    plane._checked("PUT", _inventory_path(project), json=secret)
    project.add_app("addon-c")
    result = project.apply()
    assert result.exit_code == EXIT_OPERATIONAL
    assert outcomes(result)["addon-c"] == "installed, not recorded"
    assert "addon-c" in project.releases()
    assert "re-run apply" in result.stdout + result.stderr


def test_helm_killed_from_outside_says_so(project: ApplyProject) -> None:
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("workload.enabled=true"))
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            out = subprocess.run(["pgrep", "-f", f"{project.env.helm} upgrade addon-a"], capture_output=True,
                                 text=True, check=False)
            for pid in out.stdout.split():
                os.kill(int(pid), signal.SIGKILL)
                killed.append(int(pid))
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    result = project.apply("--wait", "--timeout", "20s")
    thread.join(timeout=70)
    assert killed, "helm upgrade was never seen running"
    assert result.exit_code == EXIT_OPERATIONAL
    assert "killed by SIGKILL" in result.stdout + result.stderr


@pytest.mark.parametrize("namespace_rights", [False])
def test_a_user_who_may_not_touch_namespaces_works_as_with_plain_helm(project: ApplyProject, tmp_path: Path,
                                                                      namespace_rights: bool) -> None:
    """No rights on Namespace objects (no get, no create): we pass no --create-namespace for namespaces
    that exist, exactly as a plain `helm install` by that user works."""
    plane = project.env.control_plane
    for namespace in (project.system, project.addons):
        plane.api_create("/api/v1/namespaces", {"metadata": {"name": namespace}})
    from tests.cluster.test_cluster_access import _admin

    name = f"scoped-{project.cluster}"
    plane.api_create("/api/v1/namespaces/default/serviceaccounts", {"metadata": {"name": name}})
    rules = [{"apiGroups": ["", "apps", "coordination.k8s.io"], "resources": [
        "secrets", "configmaps", "services", "deployments", "daemonsets", "serviceaccounts", "leases", "pods"],
        "verbs": ["*"]}]
    plane.api_create("/apis/rbac.authorization.k8s.io/v1/clusterroles", {"metadata": {"name": name}, "rules": rules})
    for namespace in ("kube-system", project.system, project.addons):
        plane.api_create(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings", {
            "metadata": {"name": name}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                    "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "default"}]})
    token = plane.api_create(f"/api/v1/namespaces/default/serviceaccounts/{name}/token", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}})
    config = _admin(plane)
    config["users"] = [{"name": "admin", "user": {"token": token["status"]["token"]}}]
    scoped = tmp_path / "scoped-kubeconfig"
    scoped.write_text(json.dumps(config))
    scoped.chmod(0o600)
    from click.testing import CliRunner

    from toolkit.cli import cli

    result = CliRunner().invoke(cli, ["apply", str(project.cluster_file), "--kubeconfig", str(scoped), "--root",
                                      str(project.root), "--yes", "--no-wait", "--timeout", "60s", "-o", "json"])
    assert result.exit_code == EXIT_OK, result.output
    assert set(outcomes(result).values()) == {"installed"}


def test_the_lease_deleted_mid_apply_stops_the_first_apply_and_no_release_is_deployed_twice(
        project: ApplyProject) -> None:
    import sys

    from click.testing import CliRunner

    from toolkit.cli import cli

    assert project.apply().exit_code == EXIT_OK
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("workload.enabled=true"))
    first = subprocess.Popen(  # its own process, so its output is its own
        [sys.executable, "-m", "toolkit", "apply", str(project.cluster_file), "--kubeconfig",
         str(project.env.kubeconfig), "--root", str(project.root), "--yes", "--wait", "--timeout", "15s",
         "--concurrency", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    lease = f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/tke-catalog-apply-{project.cluster}"
    deadline, seen = time.monotonic() + 60, False
    while time.monotonic() < deadline and not seen:
        seen = "upgrade addon-a" in subprocess.run(["pgrep", "-af", f"{project.env.helm} upgrade addon-a"],
                                                   capture_output=True, text=True).stdout
        time.sleep(0.1)
    assert seen, "the first apply's helm upgrade was never seen running"
    delete(project, lease)  # an operator "unsticks" the Lease while the first apply waits on addon-a
    second = CliRunner().invoke(cli, ["apply", str(project.cluster_file), "--kubeconfig", str(project.env.kubeconfig),
                                      "--root", str(project.root), "--yes", "--no-wait", "--timeout", "60s",
                                      "--output", "json"])
    out, err = first.communicate(timeout=120)
    assert first.returncode == EXIT_OPERATIONAL, out + err
    assert "Lease" in err and "stopped before the next change" in out + err
    rows = history(project, "addon-a", project.addons)
    assert [row["status"] for row in rows].count("deployed") == 1, rows
    # the second apply left the first one's in-flight upgrade alone: it made no revision of addon-a
    assert all("Rollback" not in str(row["description"]) for row in rows), rows
    # depending on timing it saw the pending revision ("left to it") or lost the race to create one
    # (helm: "already exists"; the revision is not its own, so it undoes nothing): it fails either way
    assert second.exit_code == EXIT_OPERATIONAL
    assert "left to it" in second.output or "nothing to undo" in second.output, second.output

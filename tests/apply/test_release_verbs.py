"""`status`, `history`, `rollback` and `uninstall` against the real API server and helm: what they
report is what helm's records hold, and what they change is seen there."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from tests.apply.conftest import ApplyProject, values_block
from toolkit.cli import cli

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def verb(project: ApplyProject, *args: str) -> Result:
    return CliRunner().invoke(cli, [args[0], str(project.cluster_file), *args[1:], "--kubeconfig",
                                    str(project.env.kubeconfig), "--root", str(project.root)])


def test_status_history_rollback_and_uninstall(project: ApplyProject) -> None:
    assert project.apply().exit_code == 0
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("data.greeting=second"))
    assert project.apply().exit_code == 0
    assert project.config(project.addons, "addon-a")["data"]["greeting"] == "second"

    status = verb(project, "status", "-o", "json")
    assert status.exit_code == 0, status.output
    rows = {r["name"]: r for r in json.loads(status.stdout)["releases"]}
    helm_says = project.releases()
    assert set(rows) == set(helm_says) == {"node-config", "net", "dns", "addon-a", "addon-b"}
    assert {n: (r["revision"], r["status"]) for n, r in rows.items()} == {
        n: (i.revision, i.status) for n, i in helm_says.items()}

    history = verb(project, "history", "addon-a", "-o", "json")
    assert history.exit_code == 0, history.output
    assert [r["revision"] for r in json.loads(history.stdout)["revisions"]] == [1, 2]
    assert verb(project, "history", "not-ours").exit_code == 3

    rolled = verb(project, "rollback", "addon-a", "1", "--yes", "--no-wait")
    assert rolled.exit_code == 0, rolled.output
    assert project.releases()["addon-a"].revision == 3
    assert project.config(project.addons, "addon-a")["data"]["greeting"] == "hello"  # revision 1's value
    # the inventory follows: the next plan is an upgrade back to what the Cluster asks, not drift
    plan = CliRunner().invoke(cli, ["plan", str(project.cluster_file), "--root", str(project.root), "--kubeconfig",
                                    str(project.env.kubeconfig), "-o", "json"])
    addon_a = next(r for r in json.loads(plan.stdout)["releases"] if r["name"] == "addon-a")
    assert addon_a["action"] == "upgrade" and "changedOutsideTkeCatalog" not in addon_a, addon_a

    refused = verb(project, "uninstall", "--yes")
    assert refused.exit_code == 64 and "critical" in refused.output  # net is critical
    assert set(project.releases()) == set(helm_says)
    gone = verb(project, "uninstall", "--yes", "--allow-critical-removal", "-o", "json")
    assert gone.exit_code == 0, gone.output
    order = [r["release"].split("/")[1] for r in json.loads(gone.stdout)["releases"]]
    assert order.index("addon-b") < order.index("addon-a") < order.index("dns") < order.index("net") \
        < order.index("node-config")  # the install order backwards: addon-b depends on addon-a
    assert project.releases() == {}
    assert json.loads(verb(project, "status", "-o", "json").stdout)["releases"] == []

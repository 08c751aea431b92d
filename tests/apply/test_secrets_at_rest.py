"""Secrets at rest: what apply and plan leave behind never holds a secret value readable by others.
Against the real API server and helm: the inventory, which records each release's values to diff
against, is a Secret (as protected as helm's own release records), never a ConfigMap; a saved plan is
owner-only and redacts secret-looking keys."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

from tests.apply.conftest import ApplyProject, values_block
from tests.apply.test_apply import plan_cli
from toolkit.adapters.kube.inventory import inventory_name

SECRET = "hunter2-do-not-store"


def test_inventory_and_saved_plan_hold_no_secret_value(project: ApplyProject, tmp_path: Path) -> None:
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block(f"data.password={SECRET}"))
    assert project.apply().exit_code == 0
    plane = project.env.control_plane
    inventory = plane.api_get(f"/api/v1/namespaces/kube-system/secrets/{inventory_name(project.cluster)}")
    assert inventory["kind"] == "Secret" and inventory["type"] == "tke-catalog.io/inventory"
    assert SECRET in base64.b64decode(inventory["data"]["inventory.json"]).decode()  # the value is kept here only
    # no ConfigMap anywhere holds the value, except the one the chart itself renders from it
    holders = [f"{c['metadata']['namespace']}/{c['metadata']['name']}" for c in plane.api_list("/api/v1/configmaps")
               if SECRET in json.dumps(c.get("data") or {})]
    assert holders == [f"{project.addons}/addon-a-config"]

    saved = tmp_path / "plan.json"
    code, _, err = plan_cli(project, "--out", str(saved))
    assert code == 0, err
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert SECRET not in saved.read_text() and "<redacted>" in saved.read_text()

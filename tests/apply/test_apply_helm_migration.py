"""A cluster whose releases helm 3 installed, applied with helm 4 and back, against the real API server.

Helm 4's `upgrade --server-side=auto` (its default) keeps the apply method a release was installed with:
releases helm 3 installed stay client-side apply under helm 4, releases helm 4 installs are server-side
apply, and helm 3 upgrades those again with its client-side three-way merge. Nothing in our command
lines depends on it; this test proves the round trip.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tests.apply.conftest import ApplyProject, values_block
from tests.support.registry_fixtures import require_binary
from toolkit.adapters.helm import Helm

pytestmark = [pytest.mark.cluster, pytest.mark.helm]

ALL = ("node-config", "net", "dns", "addon-a", "addon-b")


def _apply(project: ApplyProject, helm: Path) -> tuple[Result, dict[str, Any]]:
    result = project.apply("--helm", str(helm))
    assert result.exit_code == 0, result.output
    return result, json.loads(result.stdout)


def _revisions(project: ApplyProject, helm: Path) -> dict[str, int]:
    releases = Helm(str(helm), kubeconfig=project.env.kubeconfig).list_releases()
    return {r.name: r.revision for r in releases if r.namespace in (project.system, project.addons)}


def _apply_method(project: ApplyProject, helm4: Path, release: str) -> str:
    done = subprocess.run(  # noqa: S603
        [str(helm4), "get", "metadata", release, "--namespace", project.addons, "--output", "json",
         "--kubeconfig", str(project.env.kubeconfig)],
        capture_output=True, text=True, timeout=60, check=True, env=dict(os.environ))
    method: str = json.loads(done.stdout).get("applyMethod", "")
    return method


def test_helm_3_releases_applied_with_helm_4_and_back(project: ApplyProject) -> None:
    helm3, helm4 = require_binary("helm", "helm"), require_binary("helm4", "helm4")

    _, first = _apply(project, helm3)
    assert first["helm"] == {"path": str(helm3), "version": "v3.22.0"}
    assert set(outcomes_of(first).values()) == {"installed"}
    assert _revisions(project, helm3) == dict.fromkeys(ALL, 1)

    # helm 4 on a cluster helm 3 set up: nothing to do, no new revision
    noop, document = _apply(project, helm4)
    assert document["helm"]["version"].startswith("v4.")
    assert f"helm {document['helm']['version']} ({helm4})" in noop.stderr
    assert set(outcomes_of(document).values()) == {"unchanged"}
    assert _revisions(project, helm4) == dict.fromkeys(ALL, 1)

    # a changed value upgrades cleanly with helm 4, which keeps helm 3's client-side apply for it
    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("data.greeting=from-helm-4"))
    project.add_app("addon-c")
    _, changed = _apply(project, helm4)
    assert {k: v for k, v in outcomes_of(changed).items() if v != "unchanged"} == {
        "addon-a": "upgraded", "addon-c": "installed"}
    assert _revisions(project, helm4) == {**dict.fromkeys(ALL, 1), "addon-a": 2, "addon-c": 1}
    assert project.config(project.addons, "addon-a")["data"]["greeting"] == "from-helm-4"
    assert _apply_method(project, helm4, "addon-a") == "csa"
    assert _apply_method(project, helm4, "addon-c") == "ssa"
    assert {r.status for r in Helm(str(helm3), kubeconfig=project.env.kubeconfig).list_releases()
            if r.namespace == project.addons} == {"deployed"}

    # and back: helm 3 sees no change, then upgrades both a release it installed and one helm 4 installed
    _, back = _apply(project, helm3)
    assert back["helm"]["version"] == "v3.22.0"
    assert set(outcomes_of(back).values()) == {"unchanged"}
    project.edit("data.greeting=from-helm-4", "data.greeting=back-on-helm-3")
    project.edit("chartName: addon-c\n", "chartName: addon-c\n" + values_block("data.greeting=also-helm-3"))
    _, upgraded = _apply(project, helm3)
    assert {k: v for k, v in outcomes_of(upgraded).items() if v != "unchanged"} == {
        "addon-a": "upgraded", "addon-c": "upgraded"}
    assert _revisions(project, helm3) == {**dict.fromkeys(ALL, 1), "addon-a": 3, "addon-c": 2}
    assert project.config(project.addons, "addon-a")["data"]["greeting"] == "back-on-helm-3"
    assert project.config(project.addons, "addon-c")["data"]["greeting"] == "also-helm-3"


def outcomes_of(document: dict[str, Any]) -> dict[str, str]:
    return {r["name"]: r["outcome"] for r in document["releases"]}

"""`diff` and `template` against the real API server and helm: after an apply the manifests diff is
empty; an edit shows as old → new values and as a manifest diff; `template` renders exactly the objects
the next apply installs (helm's own record of them is the oracle)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from tests.apply.conftest import ApplyProject, values_block
from toolkit.cli import cli
from toolkit.core.yamldoc import parse_yaml_all, to_plain

pytestmark = [pytest.mark.cluster, pytest.mark.helm]


def run(project: ApplyProject, verb: str, *args: str) -> Result:
    return CliRunner().invoke(cli, [verb, str(project.cluster_file), "--root", str(project.root), *args])


def diff(project: ApplyProject, *args: str) -> Result:
    return run(project, "diff", "--kubeconfig", str(project.env.kubeconfig), "--manifests", *args)


def test_diff_shows_values_and_manifests_and_template_renders_what_apply_installs(project: ApplyProject) -> None:
    assert project.apply().exit_code == 0
    same = diff(project, "--detailed-exitcode")
    assert same.exit_code == 0, same.output
    assert same.stdout.strip() == f"No changes: the cluster matches Cluster {project.cluster}."

    project.edit("chartName: addon-a\n", "chartName: addon-a\n" + values_block("data.greeting=changed"))
    changed = diff(project, "--detailed-exitcode")
    assert changed.exit_code == 2, changed.output
    assert f"~ {project.addons}/addon-a: upgrade" in changed.stdout
    assert '~ $.data.greeting: "hello" → "changed"' in changed.stdout
    assert f"--- {project.addons}/addon-a ConfigMap addon-a-config (installed)" in changed.stdout
    assert "    -  greeting: hello\n    +  greeting: changed" in changed.stdout
    assert "addon-b" not in changed.stdout  # unchanged releases stay out

    rendered = run(project, "template", "--release", "addon-a")
    assert rendered.exit_code == 0, rendered.output
    planned = [to_plain(d) for d in parse_yaml_all(rendered.stdout) if d]
    assert project.apply().exit_code == 0
    record = project.env.control_plane.api_list(f"/api/v1/namespaces/{project.addons}/secrets",
                                                label_selector="owner=helm,name=addon-a,status=deployed")
    assert len(record) == 1
    from toolkit.core.helm_release import decode_release_secret

    installed = decode_release_secret(record[0])
    assert installed is not None
    assert planned == [to_plain(d) for d in parse_yaml_all(installed.manifest) if d]
    assert diff(project, "--detailed-exitcode").exit_code == 0

"""The pure editing core: round trips, indentation, and edits that touch only their own app's lines."""

from __future__ import annotations

import pytest

from toolkit.core import cluster_edit
from toolkit.core.cluster_edit import AppEntry, Indentation
from toolkit.core.yamldoc import parse_yaml, to_plain
from toolkit.errors import ClusterSpecError, InputError

from .edits import APPS, BOTH, COMPACT, WIDE, changes, entry_range, touched_old_lines


def edit(text: str, operation: object, *args: object, **kwargs: object) -> str:
    tree, layout = cluster_edit.load_tree(text, "test.yaml")
    operation(tree, *args, **kwargs)  # type: ignore[operator]
    return cluster_edit.dump_tree(tree, layout)


@pytest.mark.parametrize("path", BOTH, ids=lambda p: p.name)
def test_load_and_dump_is_byte_identical(path):
    text = path.read_text()
    tree, layout = cluster_edit.load_tree(text, str(path))
    assert cluster_edit.dump_tree(tree, layout) == text
    assert cluster_edit.reformatted_lines(text, layout) == 0


@pytest.mark.parametrize("path", BOTH, ids=lambda p: p.name)
def test_crlf_and_missing_final_newline_survive(path):
    text = path.read_text().rstrip("\n").replace("\n", "\r\n")
    changed = edit(text, cluster_edit.disable_app, "metrics-server")
    assert "\r\n" in changed and "\n" not in changed.replace("\r\n", "")
    assert not changed.endswith("\n")
    assert changed.count("\r\n") == text.count("\r\n") + (1 if path is COMPACT else 2)


@pytest.mark.parametrize(("path", "expected"), [
    (WIDE, Indentation(mapping=2, sequence=4, offset=2)),
    (COMPACT, Indentation(mapping=2, sequence=2, offset=0)),
])
def test_detects_the_files_indentation(path, expected):
    assert cluster_edit.detect_indentation(path.read_text()) == expected


def test_detects_four_space_indentation_and_defaults():
    text = "a:\n    b:\n        - c: 1\n          d: 2\n    e: [x]\n"
    assert cluster_edit.detect_indentation(text) == Indentation(mapping=4, sequence=6, offset=4)
    assert cluster_edit.detect_indentation("a: 1\n") == Indentation(mapping=2, sequence=2, offset=0)


def test_layout_sees_document_start():
    assert cluster_edit.detect_layout(COMPACT.read_text()).explicit_start
    assert not cluster_edit.detect_layout(WIDE.read_text()).explicit_start


def test_not_a_cluster_is_refused():
    with pytest.raises(ClusterSpecError, match="not a Cluster"):
        cluster_edit.load_tree("kind: ConfigMap\n", "cm.yaml")


# --- remove --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "name"), [(p, n) for p in BOTH for n in APPS[p]],
                         ids=lambda v: getattr(v, "name", v))
def test_remove_deletes_exactly_the_entrys_lines(path, name):
    text = path.read_text()
    lines = entry_range(text, name)
    result = edit(text, cluster_edit.remove_app, name)
    ops = changes(text, result)
    assert [op[0] for op in ops] == ["delete"]
    assert range(ops[0][1], ops[0][2]) == lines
    # every comment line outside the entry is still there, in order
    comments = [line for number, line in enumerate(text.splitlines())
                if line.lstrip().startswith("#") and number not in lines]
    assert [line for line in result.splitlines() if line.lstrip().startswith("#")] == comments


@pytest.mark.parametrize("path", BOTH, ids=lambda p: p.name)
def test_remove_every_app_keeps_all_comments(path):
    text = path.read_text()
    result = text
    for name in APPS[path]:
        result = edit(result, cluster_edit.remove_app, name)
    assert to_plain(parse_yaml(result))["spec"]["bootstrapApps"] == []
    inside = {number for name in APPS[path] for number in entry_range(text, name)}
    comments = [line.strip() for number, line in enumerate(text.splitlines())
                if line.lstrip().startswith("#") and number not in inside]
    assert [line.strip() for line in result.splitlines() if line.lstrip().startswith("#")] == comments


def test_remove_unknown_app_suggests_the_closest():
    with pytest.raises(InputError, match="no bootstrap app `ingress-ngnix`") as caught:
        edit(WIDE.read_text(), cluster_edit.remove_app, "ingress-ngnix")
    assert caught.value.hint == "did you mean `ingress-nginx`?"


# --- add -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BOTH, ids=lambda p: p.name)
def test_add_inserts_one_block_after_the_last_app(path):
    text = path.read_text()
    last = entry_range(text, APPS[path][-1])
    entry = AppEntry(name="nginx", version="~1.2", namespace="web", raw_values="a: 1\nb: [x]\n",
                     set_values=("replicaCount=2",), depends_on=("redis",))
    result = edit(text, cluster_edit.add_app, entry)
    ops = changes(text, result)
    assert [(op[0], op[1]) for op in ops] == [("insert", last.stop)]
    apps = to_plain(parse_yaml(result))["spec"]["bootstrapApps"]
    namespace = to_plain(parse_yaml(text))["metadata"]["name"]
    assert apps[-1] == {"app": {
        "metadata": {"name": "nginx", "namespace": namespace},
        "spec": {"type": "HelmV3", "name": "nginx", "targetNamespace": "web",
                 "chart": {"chartGroupName": "public", "chartName": "nginx", "chartVersion": "~1.2"},
                 "values": {"rawValuesType": "yaml", "rawValues": "a: 1\nb: [x]\n", "values": ["replicaCount=2"]},
                 "dependsOn": ["redis"]}}}
    # the new entry is written in the file's own indentation
    assert entry_range(result, "nginx") == range(last.stop, last.stop + ops[0][4] - ops[0][3])


def test_add_oci_chart_without_chart_group():
    result = edit(COMPACT.read_text(), cluster_edit.add_app,
                  AppEntry(name="tool", chart="tool-chart", version="0.1.0", repo="oci://r.example.com/c"))
    app = to_plain(parse_yaml(result))["spec"]["bootstrapApps"][-1]["app"]["spec"]
    assert app["chart"] == {"chartName": "tool-chart", "chartVersion": "0.1.0", "repoURL": "oci://r.example.com/c"}
    assert app["targetNamespace"] == "tool"
    assert app["values"] == {"rawValuesType": "yaml", "rawValues": "", "values": []}


def test_add_existing_release_points_to_apps_set():
    with pytest.raises(InputError, match="already has a bootstrap app `redis`") as caught:
        edit(COMPACT.read_text(), cluster_edit.add_app, AppEntry(name="redis"))
    assert "apps set" in (caught.value.hint or "")


def test_add_rejects_bad_set_syntax():
    with pytest.raises(InputError, match="--set"):
        edit(COMPACT.read_text(), cluster_edit.add_app, AppEntry(name="x", set_values=("a[x]=1",)))


def test_add_creates_the_list_when_missing():
    text = "apiVersion: platform.tkestack.io/v1\nkind: Cluster\nmetadata:\n  name: c\nspec:\n  version: 1.30.2\n"
    result = edit(text, cluster_edit.add_app, AppEntry(name="a", version="1.0.0"))
    assert result.startswith(text)
    assert to_plain(parse_yaml(result))["spec"]["bootstrapApps"][0]["app"]["metadata"] == {"name": "a"}


# --- set -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BOTH, ids=lambda p: p.name)
def test_set_touches_only_its_own_entry(path):
    text = path.read_text()
    for name in APPS[path]:
        result = edit(text, cluster_edit.set_app, name, version="9.9.9", set_values=("new.key=1",))
        assert touched_old_lines(text, result) <= set(entry_range(text, name)), name
        spec = to_plain(parse_yaml(result))["spec"]["bootstrapApps"][APPS[path].index(name)]["app"]["spec"]
        assert spec["chart"]["chartVersion"] == "9.9.9"
        assert spec["values"]["values"][-1] == "new.key=1"


def test_set_keeps_quoting_and_end_of_line_comment():
    text = WIDE.read_text()
    result = edit(text, cluster_edit.set_app, "kube-state-metrics", version="5.16.0",
                  set_values=("resources.limits.memory=512Mi",))
    assert [line for line in changes(text, result)] and touched_old_lines(text, result) == {49, 58}
    assert '            chartVersion: "5.16.0"   # pinned: 5.16 changed the labels\n' in result
    assert "              - 'resources.limits.memory=512Mi'\n" in result


def test_set_replaces_a_key_instead_of_appending_a_duplicate():
    text = WIDE.read_text()
    result = edit(text, cluster_edit.set_app, "ingress-nginx", set_values=("controller.replicaCount=3", "a.b=c"))
    assert '            values: ["controller.replicaCount=3", "controller.service.type=LoadBalancer", "a.b=c"]\n' in result
    assert len(changes(text, result)) == 1


def test_set_unset_removes_and_keeps_the_comments_after_it():
    text = WIDE.read_text()
    result = edit(text, cluster_edit.set_app, "kube-state-metrics", unset_keys=("prometheus.monitor.enabled",))
    assert [op[0] for op in changes(text, result)] == ["delete"]
    assert touched_old_lines(text, result) == {59}
    assert "    # --- ingress ----------------------------------------------------------\n" in result


def test_set_unset_unknown_key_is_an_error():
    with pytest.raises(InputError, match="does not set `replicas`") as caught:
        edit(COMPACT.read_text(), cluster_edit.set_app, "redis", unset_keys=("replicas",))
    assert "architecture" in (caught.value.hint or "")


def test_set_raw_values_writes_a_literal_block_and_fills_an_empty_list():
    text = WIDE.read_text()
    result = edit(text, cluster_edit.set_app, "local-path", raw_values="x: 1\ny: 2\n", set_values=("a=1",))
    assert "            rawValues: |\n              x: 1\n              y: 2\n            values:\n              - a=1\n" in result
    assert touched_old_lines(text, result) <= set(entry_range(text, "local-path"))


def test_set_reports_whether_anything_changed():
    tree, _ = cluster_edit.load_tree(COMPACT.read_text(), "c.yaml")
    assert not cluster_edit.set_app(tree, "redis", version="18.6.1", set_values=("architecture=standalone",))
    assert cluster_edit.set_app(tree, "redis", version="18.7.0")


# --- disable / enable ----------------------------------------------------------------------------


def test_disable_creates_the_list_in_the_files_style():
    text = WIDE.read_text()
    result = edit(text, cluster_edit.disable_app, "metrics-server")
    assert [op[0] for op in changes(text, result)] == ["insert"]
    assert "    skipConditions: [EnsureGalaxy]   # Cilium replaces Galaxy\n    disabledApps:\n      - metrics-server\n" in result


def test_disable_twice_is_a_no_op():
    once = edit(COMPACT.read_text(), cluster_edit.disable_app, "metrics-server")
    tree, layout = cluster_edit.load_tree(once, "c.yaml")
    assert not cluster_edit.disable_app(tree, "metrics-server")
    assert cluster_edit.dump_tree(tree, layout) == once
    assert "    - kubernetes-dashboard\n    - metrics-server\n" in once


def test_enable_removes_and_keeps_the_comment():
    text = COMPACT.read_text()
    result = edit(text, cluster_edit.enable_app, "kubernetes-dashboard")
    assert "    disabledApps: []\n    # trimmed: the developers run their own dashboards\n  machines:\n" in result
    assert to_plain(parse_yaml(result))["spec"]["features"]["disabledApps"] == []


def test_enable_what_is_not_disabled_changes_nothing():
    tree, layout = cluster_edit.load_tree(WIDE.read_text(), "w.yaml")
    assert not cluster_edit.enable_app(tree, "metrics-server")
    assert cluster_edit.dump_tree(tree, layout) == WIDE.read_text()

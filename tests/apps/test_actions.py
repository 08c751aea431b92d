"""The apps actions: validate before writing, write atomically, write nothing when the result is invalid."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from toolkit.actions import apps
from toolkit.core.cluster_edit import AppEntry
from toolkit.core.findings import Finding, Severity
from toolkit.core.yamldoc import parse_yaml, to_plain
from toolkit.errors import InputError, UsageError, YamlError

from .edits import COMPACT, WIDE, changes, entry_range


class RecordingValidator:
    """Accepts everything, or flags `dependsOn` names that are not release names in the file."""

    def __init__(self, *, check_depends_on: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.check_depends_on = check_depends_on

    def __call__(self, text: str, source: str) -> list[Finding]:
        self.calls.append((text, source))
        if not self.check_depends_on:
            return []
        items = to_plain(parse_yaml(text))["spec"].get("bootstrapApps", [])
        names = {item["app"]["spec"]["name"] for item in items}
        return [Finding(Severity.ERROR, f"app `{item['app']['spec']['name']}` depends on unknown `{other}`",
                        file=source, rule="depends-on")
                for item in items for other in item["app"]["spec"].get("dependsOn", []) if other not in names]


@pytest.fixture
def cluster(tmp_path: Path) -> Path:
    path = tmp_path / "cluster.yaml"
    shutil.copyfile(WIDE, path)
    os.chmod(path, 0o640)
    return path


def snapshot(path: Path) -> tuple[bytes, int, list[str]]:
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def test_add_validates_the_new_text_then_writes_it(cluster: Path) -> None:
    validate = RecordingValidator()
    before = cluster.read_text()
    change = apps.add_app(cluster, AppEntry(name="nginx", version="1.0.0"), validate=validate)
    assert change.changed and change.written and change.ok
    assert validate.calls == [(cluster.read_text(), str(cluster))]
    assert change.diff.startswith("--- a/cluster.yaml\n+++ b/cluster.yaml\n")
    assert [op[0] for op in changes(before, cluster.read_text())] == ["insert"]
    assert os.listdir(cluster.parent) == ["cluster.yaml"]  # no temporary file left behind
    assert cluster.stat().st_mode & 0o777 == 0o640


def test_unknown_depends_on_writes_nothing(cluster: Path) -> None:
    before = snapshot(cluster)
    change = apps.add_app(cluster, AppEntry(name="nginx", depends_on=("ingress-ngnix",)),
                          validate=RecordingValidator(check_depends_on=True))
    assert change.changed and not change.written and not change.ok
    assert [f.rule for f in change.findings] == ["depends-on"]
    assert "+          dependsOn:\n+            - ingress-ngnix\n" in change.diff
    assert snapshot(cluster) == before


def test_dry_run_returns_the_diff_and_writes_nothing(cluster: Path) -> None:
    before = snapshot(cluster)
    change = apps.remove_app(cluster, "ingress-nginx", validate=RecordingValidator(), dry_run=True)
    assert change.changed and not change.written
    assert "-          name: ingress-nginx\n" in change.diff
    assert snapshot(cluster) == before


def test_remove_writes_only_the_deletion(cluster: Path) -> None:
    before = cluster.read_text()
    apps.remove_app(cluster, "local-path", validate=RecordingValidator())
    ops = changes(before, cluster.read_text())
    assert [(op[0], range(op[1], op[2])) for op in ops] == [("delete", entry_range(before, "local-path"))]


def test_disable_twice_leaves_identical_bytes_and_skips_validation(cluster: Path) -> None:
    validate = RecordingValidator()
    first = apps.disable_app(cluster, "metrics-server", validate=validate)
    after_first = snapshot(cluster)
    second = apps.disable_app(cluster, "metrics-server", validate=validate)
    assert first.written and not second.changed and not second.written and second.diff == ""
    assert snapshot(cluster) == after_first
    assert len(validate.calls) == 1
    third = apps.enable_app(cluster, "metrics-server", validate=validate)
    assert third.written  # the emptied list stays, as `[]`, where it was added
    assert cluster.read_text() == WIDE.read_text().replace("   # Cilium replaces Galaxy\n",
                                                           "   # Cilium replaces Galaxy\n    disabledApps: []\n")


def test_set_with_values_file(cluster: Path, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("storageClass:\n  defaultClass: true\n")
    change = apps.set_app(cluster, "local-path", version="0.0.29", values_file=values, validate=RecordingValidator())
    assert change.written
    spec = to_plain(parse_yaml(cluster.read_text()))["spec"]["bootstrapApps"][2]["app"]["spec"]
    assert spec["values"]["rawValues"] == "storageClass:\n  defaultClass: true\n"
    assert spec["chart"]["chartVersion"] == "0.0.29"


def test_values_file_must_be_a_yaml_mapping(cluster: Path, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("- a\n- b\n")
    with pytest.raises(InputError, match="must be a YAML mapping"):
        apps.add_app(cluster, AppEntry(name="x"), values_file=values, validate=RecordingValidator())
    values.write_text("a: [\n")
    with pytest.raises(YamlError):
        apps.set_app(cluster, "local-path", values_file=values, validate=RecordingValidator())


def test_set_without_changes_is_a_usage_error(cluster: Path) -> None:
    with pytest.raises(UsageError, match="nothing to change"):
        apps.set_app(cluster, "local-path", validate=RecordingValidator())


def test_core_errors_name_the_file(cluster: Path) -> None:
    with pytest.raises(InputError, match=f"^{cluster}: no bootstrap app `redis`"):
        apps.remove_app(cluster, "redis", validate=RecordingValidator())


def test_a_file_that_mixes_indentation_reports_the_reformatting(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    text = COMPACT.read_text().replace("  machines:\n  - ip: 10.1.0.21\n    username: root\n",
                                       "  machines:\n    - ip: 10.1.0.21\n      username: root\n")
    path.write_text(text)
    change = apps.disable_app(path, "metrics-server", validate=RecordingValidator())
    assert change.written and change.reformatted_lines == 2


def test_errors_the_file_already_had_do_not_block_an_edit(cluster: Path) -> None:
    def validate(text: str, source: str) -> list[Finding]:
        broken = [Finding(Severity.ERROR, "unknown app `local-path-provisioner`", rule="unknown-app")]
        return broken if "local-path-provisioner" in text else []

    change = apps.set_app(cluster, "ingress-nginx", version="4.11.0", validate=validate)
    assert change.written and change.ok and len(change.findings) == 1
    assert apps.remove_app(cluster, "local-path", validate=validate).written


def test_cluster_validator_uses_the_catalog() -> None:
    validate = apps.cluster_validator(Path(__file__).resolve().parents[2])
    findings = validate(WIDE.read_text(), "w.yaml")
    assert "unknown app `ingress-nginx`: it is not in the catalog and has no repoURL" in [f.message for f in findings]

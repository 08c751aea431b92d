"""`tke-catalog lint` on fixture projects: every kind of bad input becomes a finding with file, JSON path
and a hint, exit code 3, and never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.actions.lint import lint
from toolkit.adapters.project import find_chart_dirs
from toolkit.cli import cli
from toolkit.core.findings import Severity
from toolkit.errors import EXIT_INPUT

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lint"
CATALOG_SCHEMA = Path(__file__).parents[2] / "schemas" / "catalog.schema.json"


def project(tmp_path: Path, name: str) -> Path:
    """A copy of the fixture project with the real catalog schema beside it."""
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    shutil.copy(CATALOG_SCHEMA, root / "schemas" / "catalog.schema.json")
    return root


def run_rules(root: Path) -> list[tuple[str, str, str]]:
    result = lint(find_chart_dirs(root / "charts"), root=root, catalog_file=root / "catalog" / "catalog.yaml",
                  helm=None)
    return [(f.rule, f.path, f.message) for f in result.findings if f.severity is Severity.ERROR]


def test_good_project_has_no_errors(tmp_path: Path) -> None:
    assert run_rules(project(tmp_path, "good")) == []


@pytest.mark.parametrize(("scenario", "rule", "path", "fragment"), [
    ("broken-schema", "schema-invalid", "$.type", "invalid schema"),
    ("values-violation", "variant-schema", "$.replicas", "expected integer"),
    ("values-violation", "variant-schema", "$.image.tagg", "unknown field `tagg`"),
    ("non-semver", "chart-version", "$.version", "not a semantic version"),
    ("duplicate-keys", "yaml-invalid", "$", "duplicate key"),
    ("missing-chart", "catalog-chart-missing", "$.apps[1].chart", "does not exist"),
    ("latest-tag", "image-latest", "$.image.tag", "not pinned"),
    ("schema-drift", "schema-drift", "$", "differs from its source of truth"),
    ("no-crd-policy", "chart-crd-policy", "$.annotations['tke-catalog.io/crd-policy']", "no CRD upgrade policy"),
    ("lines", "chart-duplicate", "$.version", "chart demo 1.0.0 is also in"),
    ("lines", "catalog-chart-missing", "$.apps[0].lines[1]", "demo@0.8"),
])
def test_bad_input_becomes_a_finding(tmp_path: Path, scenario: str, rule: str, path: str, fragment: str) -> None:
    findings = run_rules(project(tmp_path, scenario))
    assert any(r == rule and p == path and fragment in m for r, p, m in findings), findings


def test_an_older_line_with_its_own_version_is_fine(tmp_path: Path) -> None:
    root = project(tmp_path, "lines")
    line = root / "charts" / "addons" / "demo@0.9" / "Chart.yaml"
    line.write_text(line.read_text().replace("version: 1.0.0", "version: 0.9.0"))
    catalog = root / "catalog" / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace(", charts/addons/demo@0.8", ""))
    assert run_rules(root) == []


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    root = project(tmp_path, "values-violation")
    result = lint(find_chart_dirs(root / "charts"), root=root, catalog_file=None, helm=None)
    (unknown,) = [f for f in result.findings if "tagg" in f.message]
    assert unknown.hint == "did you mean `tag`?"
    assert unknown.file.endswith("ci/bad-values.yaml") and unknown.line == 3


@pytest.mark.parametrize("scenario", ["broken-schema", "values-violation", "non-semver", "duplicate-keys",
                                      "missing-chart", "latest-tag", "schema-drift"])
def test_cli_exits_3_without_traceback(tmp_path: Path, scenario: str) -> None:
    root = project(tmp_path, scenario)
    result = CliRunner().invoke(cli, ["lint", "--no-helm", "--root", str(root), "--output", "json"])
    assert result.exit_code == EXIT_INPUT, result.output
    assert "Traceback" not in result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is False and payload["findings"]


@pytest.mark.helm
def test_helm_lint_catches_what_our_rules_cannot(tmp_path: Path) -> None:
    from tests.support.registry_fixtures import require_helm
    from toolkit.adapters.helm import Helm

    helm = require_helm()
    root = project(tmp_path, "good")
    template = root / "charts/addons/demo/templates/cm.yaml"
    template.write_text(template.read_text() + "  broken: {{ .Values.replicas | nosuchfunction }}\n")
    result = lint(find_chart_dirs(root / "charts"), root=root, catalog_file=None, helm=Helm(str(helm)))
    assert any(f.rule == "helm-lint" and "nosuchfunction" in f.message for f in result.findings)


@pytest.mark.helm
def test_good_project_passes_helm_lint_and_template(tmp_path: Path) -> None:
    from tests.support.registry_fixtures import require_helm
    from toolkit.adapters.helm import Helm

    helm = require_helm()
    root = project(tmp_path, "good")
    result = lint(find_chart_dirs(root / "charts"), root=root, catalog_file=None, helm=Helm(str(helm)))
    assert result.ok, result.findings

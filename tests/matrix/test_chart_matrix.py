"""The version matrix with the real helm: every catalog chart (every line) × its defaults and every
`ci/` variant × every supported Kubernetes minor its kubeVersion admits renders for that version and
passes that version's API; a chart that uses an API its claimed range lacks fails lint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support.registry_fixtures import require_helm
from toolkit.actions.lint import lint
from toolkit.adapters.helm import Helm
from toolkit.adapters.project import find_chart_dirs
from toolkit.cli import cli
from toolkit.core.findings import Severity
from toolkit.errors import EXIT_INPUT, EXIT_OK

pytestmark = pytest.mark.helm

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "api-matrix"
PSP_CHART = FIXTURE / "charts" / "addons" / "psp-demo"


def test_every_catalog_chart_passes_every_minor_it_claims() -> None:
    helm = Helm(str(require_helm()))
    folders = find_chart_dirs(ROOT / "charts")
    result = lint(folders, root=ROOT, catalog_file=ROOT / "catalog" / "catalog.yaml", helm=helm, jobs=2)
    problems = [f"{f.file}: {f.message}" for f in result.findings if f.severity is not Severity.INFO]
    assert problems == []


def _lint(*args: str) -> tuple[int, dict[str, object]]:
    helm = str(require_helm())
    result = CliRunner().invoke(cli, ["lint", str(PSP_CHART), "--root", str(FIXTURE), "--helm", helm,
                                      "--output", "json", *args])
    return result.exit_code, json.loads(result.stdout)


def test_a_removed_api_fails_lint_on_the_minors_that_lack_it() -> None:
    code, document = _lint()
    assert code == EXIT_INPUT
    findings = [f for f in document["findings"] if f["rule"] == "kube-api"]  # type: ignore[union-attr]
    assert len(findings) == 1, findings
    assert findings[0]["message"].startswith("(values.yaml): Kubernetes 1.25-1.36: PodSecurityPolicy/")
    assert "policy/v1beta1 PodSecurityPolicy is not served" in findings[0]["message"]


def test_kube_version_picks_one_minor() -> None:
    assert _lint("--kube-version", "1.24")[0] == EXIT_OK
    code, document = _lint("--kube-version", "v1.25.3")
    assert code == EXIT_INPUT
    assert "Kubernetes 1.25: " in json.dumps(document)


def test_capabilities_are_those_of_the_minor_rendered_for(tmp_path: Path) -> None:
    # the guarded variant asks .Capabilities whether policy/v1beta1 PodSecurityPolicy is served: helm must
    # be told each minor's API versions, or the object would render (and fail) everywhere, or nowhere
    helm = Helm(str(require_helm()))
    chart = tmp_path / "psp-demo"
    shutil.copytree(PSP_CHART, chart)
    from toolkit.adapters.api_specs import load_api_spec

    for minor, expected in ((24, {"PodSecurityPolicy", "ConfigMap"}), (25, {"ConfigMap"})):
        spec = load_api_spec(minor)
        kinds = {o["kind"] for o in helm.template(chart, "demo", "default", {"guardWithCapabilities": True},
                                                  kube_version=spec.release, api_versions=spec.api_versions())}
        assert kinds == expected


def test_an_unsupported_kube_version_is_a_clear_error() -> None:
    result = CliRunner().invoke(cli, ["lint", str(PSP_CHART), "--root", str(FIXTURE), "--kube-version", "1.12"])
    assert result.exit_code == EXIT_INPUT
    assert "outside the supported versions (1.19 to 1.36)" in result.output and "Traceback" not in result.output

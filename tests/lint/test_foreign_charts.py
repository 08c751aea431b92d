"""lint on charts that are not the catalog's: only what helm requires, pinned images and valid schemas
(no catalog schema, folder-name or CRD-policy rules) unless `--profile catalog` asks for every rule;
images pinned by a digest sibling count as pinned; `v`-prefixed versions are accepted, as helm does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli

ROOT = Path(__file__).parents[2]


def _foreign(folder: Path, *, tag: str = '""', digest: str = "sha256:" + "a" * 64) -> Path:
    (folder / "templates").mkdir(parents=True)
    (folder / "crds").mkdir()
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: upstream-thing\nversion: v2.3.4\n"
                                       "description: an upstream chart\nappVersion: '2.3'\n")
    (folder / "values.yaml").write_text(f"image:\n  repository: example/thing\n  tag: {tag}\n  digest: {digest}\n"
                                        "sidecar:\n  image: example/sidecar@sha256:" + "b" * 64 + "\n")
    (folder / "crds" / "things.yaml").write_text("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                                                 "metadata: {name: things.example.com}\n")
    (folder / "templates" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    return folder


def _lint(*args: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(cli, ["lint", "--no-helm", "--root", str(ROOT), "-o", "json", *args])
    return result.exit_code, json.loads(result.stdout)["findings"]


def test_a_foreign_chart_gets_helms_rules_not_the_catalogs(tmp_path: Path) -> None:
    chart = _foreign(tmp_path / "vendor")  # folder name differs from the chart name, as vendored charts do
    code, findings = _lint(str(chart))
    assert code == 0, findings
    assert [f for f in findings if f["severity"] == "error"] == []


def test_the_catalog_profile_still_applies_every_rule(tmp_path: Path) -> None:
    code, findings = _lint(str(_foreign(tmp_path / "vendor")), "--profile", "catalog")
    assert code != 0
    assert {"schema-missing", "chart-crd-policy", "chart-name"} <= {str(f["rule"]) for f in findings}


@pytest.mark.parametrize(("tag", "digest"), [('""', '""'), ("latest", '""')])
def test_an_unpinned_image_is_still_refused_in_a_foreign_chart(tmp_path: Path, tag: str, digest: str) -> None:
    code, findings = _lint(str(_foreign(tmp_path / "vendor", tag=tag, digest=digest)))
    assert code != 0
    assert [f["path"] for f in findings if f["rule"] == "image-latest"] == ["$.image.tag"]


@pytest.mark.helm
def test_helm_packages_the_v_prefixed_version_under_the_name_build_gives_it(tmp_path: Path) -> None:
    import subprocess

    from tests.support.registry_fixtures import require_helm

    chart = _foreign(tmp_path / "vendor")
    packaged = subprocess.run([str(require_helm()), "package", str(chart), "--destination", str(tmp_path / "h")],  # noqa: S603
                              capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin",
                                                                                 "HOME": str(tmp_path)})
    assert packaged.returncode == 0, packaged.stderr
    built = CliRunner().invoke(cli, ["build", str(chart), "--out", str(tmp_path / "ours")])
    assert built.exit_code == 0, built.output
    assert [p.name for p in (tmp_path / "h").glob("*.tgz")] == [p.name for p in (tmp_path / "ours").glob("*.tgz")] \
        == ["upstream-thing-v2.3.4.tgz"]

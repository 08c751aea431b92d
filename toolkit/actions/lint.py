"""`lint`: our chart rules, the catalog's consistency, then `helm lint --strict` and `helm template`
of every chart with its defaults and each `ci/*-values.yaml` variant, each rendering checked against the
API of every Kubernetes minor the chart's kubeVersion admits (or the one `--kube-version` names)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from toolkit.actions.api_matrix import admitted_minors, api_findings
from toolkit.adapters.files import read_bytes, read_text, read_tree
from toolkit.adapters.helm import HelmLike
from toolkit.adapters.project import load_catalog
from toolkit.core.api_check import minor_ranges
from toolkit.core.chart import ChartPackage, parse_chart, parse_chart_metadata
from toolkit.core.findings import Finding, Severity, has_errors, yaml_error_finding
from toolkit.core.lint import ChartLintInput, lint_chart, lint_chart_names
from toolkit.core.matrix import KUBERNETES_MINORS
from toolkit.core.yamldoc import parse_yaml, to_plain
from toolkit.errors import CatalogInvalid, InputError, YamlError

__all__ = ["LintResult", "lint"]

_HELM_LINE = re.compile(r"^\[(ERROR|WARNING)\]\s*(.*)$")


@dataclass(frozen=True)
class LintResult:
    charts: int
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)

    def as_dict(self) -> dict[str, object]:
        return {"charts": self.charts, "ok": self.ok, "findings": [f.as_dict() for f in self.findings]}


def chart_profile(folder: Path, root: Path, asked: str) -> str:
    """`catalog` for a chart under the project's charts/ (with `auto`), else `helm`; or what was asked."""
    if asked != "auto":
        return asked
    return "catalog" if folder.resolve().is_relative_to((root / "charts").resolve()) else "helm"


def _chart_input(folder: Path, root: Path, profile: str = "auto") -> tuple[ChartLintInput | None, list[Finding]]:
    refused: dict[str, InputError] = {}
    files = read_tree(folder, refused=refused)
    try:
        package = parse_chart(files, str(folder), refused=refused)
    except YamlError as exc:
        return None, [yaml_error_finding(exc, str(folder))]
    except InputError as exc:
        return None, [Finding(Severity.ERROR, exc.message, file=str(folder), hint=exc.hint, rule="chart-invalid")]
    canonical = root / "schemas" / "charts" / f"{package.name}.schema.json"
    variants = {name.split("/", 1)[1]: data.decode("utf-8", "replace") for name, data in files.items()
                if name.startswith("ci/") and name.endswith("-values.yaml") and name.count("/") == 1}
    return ChartLintInput(package, str(folder), read_bytes(canonical) if canonical.is_file() else None,
                          str(canonical.relative_to(root)) if canonical.is_relative_to(root) else str(canonical),
                          variants, chart_profile(folder, root, profile)), []


def _catalog_findings(catalog_file: Path, root: Path) -> list[Finding]:
    try:
        catalog = load_catalog(root)
    except CatalogInvalid as exc:
        return list(exc.findings)
    except YamlError as exc:
        return [yaml_error_finding(exc, str(catalog_file))]
    findings: list[Finding] = []
    for index, app in enumerate(catalog.apps):
        names: dict[str, str] = {}
        for where, folder in [("chart", app.chart), *((f"lines[{n}]", line) for n, line in enumerate(app.lines))]:
            chart_yaml = root / folder / "Chart.yaml"
            if not chart_yaml.is_file():
                findings.append(Finding(Severity.ERROR, f"app `{app.name}` names chart {folder!r}, which does not exist",
                                        file=str(catalog_file), path=f"$.apps[{index}].{where}",
                                        rule="catalog-chart-missing",
                                        hint="fix the path (relative to the project root) or add the chart"))
                continue
            try:
                names[where] = str(parse_chart_metadata(read_text(chart_yaml), str(chart_yaml)).get("name", ""))
            except (InputError, YamlError):
                continue  # the chart's own lint reports it
            if where != "chart" and "chart" in names and names[where] != names["chart"]:
                findings.append(Finding(Severity.ERROR, f"app `{app.name}`: line {folder!r} is chart {names[where]!r}, "
                                                        f"not {names['chart']!r}", file=str(catalog_file),
                                        path=f"$.apps[{index}].{where}", rule="catalog-line",
                                        hint="a line is an older version of the same chart: give it the same name"))
    return findings


def _helm_findings(helm: HelmLike, item: ChartLintInput, minors: Sequence[int]) -> list[Finding]:
    folder = Path(item.folder)
    cases: list[tuple[str, Path | None]] = [("values.yaml", None)]
    cases += [(f"ci/{name}", folder / "ci" / name) for name in sorted(item.variants)]
    findings: list[Finding] = []
    for label, values_file in cases:
        run = helm.lint(folder, [values_file] if values_file else [])
        if not run.ok:
            lines = [m for m in (_HELM_LINE.match(l.strip()) for l in run.output.splitlines()) if m]
            messages = [m.group(2) for m in lines] or [run.output.strip().splitlines()[-1] if run.output.strip() else "failed"]
            for message in messages:
                findings.append(Finding(Severity.ERROR, f"helm lint --strict ({label}): {message}", file=item.folder,
                                        rule="helm-lint", hint="fix the template or values helm names"))
            continue
        overrides: dict[str, object] = {}
        if values_file is not None:
            overrides = to_plain(parse_yaml(item.variants[values_file.name], str(values_file), version=(1, 1))) or {}
        if item.package.is_library:
            continue  # helm lints a library chart but cannot render it ("library charts are not installable")
        if admitted_minors(item.package, minors):
            # rendered by helm for each admitted minor, every object checked against its API
            findings += api_findings(helm, folder, item.package, overrides, label=f"({label})", minors=minors)
    return findings


def _range_findings(item: ChartLintInput, minors: Sequence[int]) -> list[Finding]:
    """A chart whose kubeVersion admits none of the minors checked: unusable there (an error when every
    supported minor is checked, a note when `--kube-version` picked one the chart leaves out)."""
    if admitted_minors(item.package, minors):
        return []
    kube = item.package.metadata.get("kubeVersion")
    asked = minor_ranges(minors)
    if tuple(minors) == KUBERNETES_MINORS:
        return [Finding(Severity.ERROR, f"kubeVersion {kube!r} admits none of the supported Kubernetes versions "
                                        f"({asked})", file=f"{item.folder}/Chart.yaml", path="$.kubeVersion",
                        rule="kube-version", hint="widen kubeVersion to the versions the chart really runs on")]
    return [Finding(Severity.INFO, f"kubeVersion {kube!r} excludes Kubernetes {asked}: not rendered for it",
                    file=f"{item.folder}/Chart.yaml", path="$.kubeVersion", rule="kube-version")]


def lint(folders: Sequence[Path], *, root: Path, catalog_file: Path | None, helm: HelmLike | None,
         jobs: int = 4, progress: Callable[[str], None] | None = None,
         minors: Sequence[int] = KUBERNETES_MINORS, profile: str = "auto") -> LintResult:
    """Lint the given chart folders (and the catalog when given); helm=None skips helm's checks.
    With helm, every rendering is also checked against the API of each of `minors` the chart admits.
    `profile` (`auto`, `catalog`, `helm`) picks the rule set per chart (see `chart_profile`)."""
    findings: list[Finding] = []
    inputs: list[ChartLintInput] = []
    for folder in folders:
        item, problems = _chart_input(folder, root, profile)
        findings.extend(problems)
        if item is not None:
            inputs.append(item)
            findings.extend(lint_chart(item))
    packages: dict[str, ChartPackage] = {i.folder: i.package for i in inputs}
    findings.extend(lint_chart_names(packages))
    if catalog_file is not None:
        findings.extend(_catalog_findings(catalog_file, root))
    if helm is not None and inputs:
        def run(item: ChartLintInput) -> list[Finding]:
            if progress:
                progress(f"helm lint {item.package.name}")
            return _range_findings(item, minors) + _helm_findings(helm, item, minors)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for result in pool.map(run, inputs):
                findings.extend(result)
    return LintResult(len(folders), tuple(findings))

"""`tke-catalog lint`: our rules, the catalog, `helm lint --strict` and `helm template`; exit 3 on errors."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli._common import (
    ChartArgument,
    echo_json,
    helm_option,
    output_option,
    render_findings,
    root_option,
    settings_from,
)
from toolkit.errors import ValidationFailed


@click.command("lint", epilog="Example: tke-catalog lint charts/platform/cilium")
@click.argument("charts", nargs=-1, type=ChartArgument(), metavar="[CHART|APP]...")
@click.option("--no-helm", is_flag=True, help="Skip helm lint/template (our rules only, no helm needed).")
@click.option("--kube-version", "kube_version", metavar="VERSION",
              help="Check renderings against this Kubernetes version's API only (default: every supported "
                   "minor the chart's kubeVersion admits).")
@click.option("--profile", type=click.Choice(["auto", "catalog", "helm"]), default="auto", show_default=True,
              help="Rule set: catalog (all our rules), helm (what helm requires, plus pinned images and valid "
                   "schemas: for charts outside the catalog); auto picks catalog for charts under charts/.")
@click.option("--jobs", "-j", type=click.IntRange(1, 32), default=4, show_default=True, help="Parallel helm calls.")
@helm_option
@root_option
@output_option("text", "json")
def lint_command(charts: tuple[str, ...], no_helm: bool, kube_version: str | None, profile: str, jobs: int,
                 helm: str | None, root: Path | None, output: str) -> None:
    """Lint the catalog's charts, schemas and values (all charts and the catalog when none are named)."""
    from toolkit.actions.lint import lint
    from toolkit.adapters.api_specs import parse_kube_minor
    from toolkit.adapters.helm import Helm
    from toolkit.adapters.project import chart_folders, find_chart_dirs
    from toolkit.core.matrix import KUBERNETES_MINORS

    settings = settings_from(root, helm)
    folders = chart_folders(charts, settings.root) or find_chart_dirs(settings.charts_dir)
    catalog = settings.catalog_file if not charts and settings.catalog_file.is_file() else None
    result = lint(folders, root=settings.root, catalog_file=catalog,
                  helm=None if no_helm else Helm(settings.helm, source=settings.helm_source), jobs=jobs,
                  minors=[parse_kube_minor(kube_version)] if kube_version else KUBERNETES_MINORS, profile=profile)
    if output == "json":
        echo_json(result.as_dict())
    else:
        render_findings(result.findings)
        errors = sum(f.severity.value == "error" for f in result.findings)
        click.echo(f"{result.charts} charts linted: {errors} error(s), {len(result.findings) - errors} other finding(s)")
    if not result.ok:
        raise ValidationFailed("lint found errors", hint="fix the findings above")


COMMANDS = [lint_command]

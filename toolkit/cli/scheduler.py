"""`tke-catalog scheduler-config`: the kube-scheduler configuration a Cluster's extender apps need."""

from __future__ import annotations

from pathlib import Path

import click

from toolkit.cli._common import (
    InputPath,
    echo_json,
    helm_option,
    output_option,
    root_option,
    settings_from,
)


@click.command("scheduler-config", epilog="Example: tke-catalog scheduler-config cluster.yaml > /etc/kubernetes/scheduler-config.yaml")
@click.argument("cluster", type=InputPath(dir_okay=False))
@click.option("--kubeconfig-path", "kubeconfig", default="/etc/kubernetes/scheduler.conf", show_default=True,
              help="The kubeconfig kube-scheduler runs with on the masters (written into clientConnection).")
@helm_option
@root_option
@output_option("yaml", "json")
def scheduler_config_command(cluster: Path, kubeconfig: str, helm: str | None, root: Path | None, output: str) -> None:
    """Print the KubeSchedulerConfiguration that calls every scheduler extender the Cluster's apps need
    (galaxy-ipam, gpu-quota-admission), in the API version its Kubernetes reads. kube-scheduler is a
    static pod on the masters, which tke-catalog does not manage: put the file there and start
    kube-scheduler with --config pointing at it.

    \b
    Examples:
      tke-catalog scheduler-config examples/tkestack-galaxy.yaml > /etc/kubernetes/scheduler-config.yaml
    """
    from toolkit.actions.scheduler_config import scheduler_config
    from toolkit.adapters.helm import Helm

    settings = settings_from(root, helm)
    result = scheduler_config(cluster, root=settings.root, helm=Helm(settings.helm, source=settings.helm_source),
                              kubeconfig=kubeconfig)
    if output == "json":
        echo_json({"config": result.config, "extenders": [{"release": r, "urlPrefix": u} for r, u in result.sources]})
        return
    for release, url in result.sources:
        click.echo(f"# extender {url} from release {release}")
    from toolkit.core.yamldoc import dump_plain

    click.echo(dump_plain(result.config))


COMMANDS = [scheduler_config_command]

"""`images`: every container image, read from helm's renderings of the catalog or of a Cluster's plan,
and the air-gapped switch: with --image-registry every image of every chart moves to the mirror."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli import cli
from toolkit.core.images import images_of

ROOT = Path(__file__).parents[2]


def test_images_are_read_from_every_kind_of_pod_template() -> None:
    pod = {"initContainers": [{"name": "i", "image": "a:1"}], "containers": [{"name": "c", "image": "b:2"}]}
    objects = [{"kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": pod}}},
               {"kind": "CronJob", "metadata": {"name": "j"},
                "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "x", "image": "c:3"}]}}}}}},
               {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "y", "image": "d:4"}]}},
               {"kind": "ConfigMap", "metadata": {"name": "m"}, "data": {"image": "not-one:1"}}]
    assert [i for i, _ in images_of(objects)] == ["a:1", "b:2", "c:3", "d:4"]


@pytest.mark.helm
def test_every_catalog_image_moves_to_the_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.registry_fixtures import require_helm

    monkeypatch.setenv("TKE_CATALOG_HELM", str(require_helm()))
    plain = CliRunner().invoke(cli, ["images", "--root", str(ROOT), "-o", "json"])
    assert plain.exit_code == 0, plain.output
    images = {u["image"] for u in json.loads(plain.stdout)["images"]}
    assert {"quay.io/cilium/cilium:v1.18.6", "quay.io/cilium/cilium:v1.14.19",
            "registry.k8s.io/coredns/coredns:v1.12.1", "docker.io/curlimages/curl:8.11.1"} <= images
    mirrored = CliRunner().invoke(cli, ["images", "--root", str(ROOT), "--image-registry", "mirror.test", "-o", "json"])
    assert mirrored.exit_code == 0, mirrored.output
    moved = [u["image"] for u in json.loads(mirrored.stdout)["images"]]
    assert moved and all(i.startswith(("mirror.test/", "registry.local/")) for i in moved), moved


@pytest.mark.helm
def test_a_plan_lists_what_its_releases_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.registry_fixtures import require_helm

    monkeypatch.setenv("TKE_CATALOG_HELM", str(require_helm()))
    result = CliRunner().invoke(cli, ["images", str(ROOT / "examples" / "cluster.yaml"), "--root", str(ROOT),
                                      "--image-registry", "reg.local", "-o", "json"])
    assert result.exit_code == 0, result.output
    uses = {u["image"]: u["usedBy"] for u in json.loads(result.stdout)["images"]}
    assert "reg.local/cilium/cilium:v1.18.6" in uses and "reg.local/cilium/operator-generic:v1.18.6" in uses
    assert not [i for i in uses if not i.startswith("reg.local/")]
    assert any(w.startswith("cilium: DaemonSet/cilium-agent") for w in uses["reg.local/cilium/cilium:v1.18.6"])

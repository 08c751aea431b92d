"""kube-scheduler's configuration API by Kubernetes version, and merging the catalog's extenders. Pure."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from toolkit.core.scheduler_config import (
    extenders_of,
    scheduler_api_version,
    scheduler_configuration,
)
from toolkit.errors import InputError


@pytest.mark.parametrize(("minor", "api"), [(19, "v1beta1"), (21, "v1beta1"), (22, "v1beta2"), (23, "v1beta3"),
                                            (24, "v1beta3"), (25, "v1"), (36, "v1")])
def test_each_kubernetes_gets_the_configuration_api_it_reads(minor: int, api: str) -> None:
    assert scheduler_api_version(minor) == api
    assert scheduler_configuration([], minor)["apiVersion"] == f"kubescheduler.config.k8s.io/{api}"


def test_kubernetes_before_1_19_is_refused() -> None:
    with pytest.raises(InputError):
        scheduler_api_version(18)


def test_two_extenders_managing_one_resource_are_refused() -> None:
    one = {"urlPrefix": "http://a/v1", "managedResources": [{"name": "x.io/r"}]}
    two = {"urlPrefix": "http://b/v1", "managedResources": [{"name": "x.io/r"}]}
    with pytest.raises(InputError, match="two scheduler extenders manage x.io/r"):
        scheduler_configuration([one, two], 30)


def test_only_labelled_config_maps_count() -> None:
    labelled = {"kind": "ConfigMap", "metadata": {"labels": {"tke-catalog.io/scheduler-extender": "true"}},
                "data": {"extender.yaml": "- urlPrefix: http://a/v1\n"}}
    other = {"kind": "ConfigMap", "metadata": {"labels": {}}, "data": {"extender.yaml": "- urlPrefix: http://b\n"}}
    assert extenders_of([labelled, other], YAML(typ="safe").load) == [{"urlPrefix": "http://a/v1"}]

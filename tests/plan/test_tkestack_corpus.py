"""Cluster objects shaped as TKEStack 1.8 builds and stores them (tests/fixtures/tkestack/, written from
its Go types and defaulting code): each plans as TKEStack would have it, or is refused where TKEStack
refuses it; `plan -o json` is one JSON document every time, warnings inside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tests.support.fakes import FakeHelm, FakeKube, fake_session
from toolkit.actions.apply import ApplyOptions, run_apply
from toolkit.adapters.project import load_catalog, load_schema
from toolkit.cli import cli
from toolkit.core.cluster import parse_cluster
from toolkit.core.features import derive_values
from toolkit.core.tkestack_defaults import apply_tkestack_defaults
from toolkit.errors import EXIT_INPUT, EXIT_OK, InputError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "tkestack"

# fixture -> exit code, the cluster name the plan uses, the releases it plans (or None), rules it must report
EXPECTED: dict[str, tuple[int, str | None, set[str] | None, set[str]]] = {
    "console-generate-name.yaml": (EXIT_OK, "cls<generated>",
                                   {"containerd-config", "galaxy", "coredns", "metrics-server"}, {"generated-name"}),
    "stored-after-create.yaml": (EXIT_OK, "cls-8x2kq7mz", {"galaxy", "coredns", "cron-hpa"}, {"runtime-docker"}),
    "no-version-docker.yaml": (EXIT_OK, "cls-noversion", {"galaxy", "coredns"}, {"runtime-docker"}),
    "skip-galaxy-own-cni.yaml": (EXIT_OK, "cls-owncni", {"containerd-config", "coredns"},
                                 {"skip-condition", "no-cni"}),
    "dual-stack.yaml": (EXIT_OK, "cls-dualstack", {"containerd-config", "coredns"}, {"ipv6", "no-cni"}),
    "skip-metrics-server.yaml": (EXIT_OK, "cls-nometrics", {"containerd-config", "galaxy", "coredns"},
                                 {"skip-condition"}),
    "galaxy-unknown-backend.yaml": (EXIT_OK, "cls-geneve-galaxy", {"containerd-config", "galaxy", "coredns"},
                                    {"network-args"}),
    # TKEStack's default 1.21.4: the Cilium 1.14 line (Kubernetes 1.19-1.27) serves it
    "cilium-docs-geneve.yaml": (EXIT_OK, "cls-cilium", {"containerd-config", "cilium", "coredns"}, set()),
    "rejected-two-cidrs-no-dual-stack.yaml": (EXIT_INPUT, None, None, {"cidr"}),
    "rejected-max-node-pod-num.yaml": (EXIT_INPUT, None, None, {"cluster-schema"}),
    "rejected-service-cidr-and-num.yaml": (EXIT_INPUT, None, None, {"cidr"}),
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_plans_as_tkestack_would(name: str) -> None:
    code, cluster, releases, rules = EXPECTED[name]
    result = CliRunner().invoke(cli, ["plan", str(CORPUS / name), "--root", str(ROOT), "-o", "json"])
    assert result.exit_code == code, result.output
    document: dict[str, Any] = json.loads(result.stdout)  # one document, findings inside, nothing else
    found = {f["rule"] for f in document["findings"]}
    assert rules <= found, document["findings"]
    if code == EXIT_OK:
        assert document["cluster"] == cluster
        assert {r["name"] for r in document["releases"]} == releases
        assert all(f["severity"] != "error" for f in document["findings"])


def _defaults(name: str) -> dict[str, Any]:
    plain = yaml.safe_load((CORPUS / name).read_text())
    _, filled = apply_tkestack_defaults(plain)
    return {".".join(map(str, d.path)): d.value for d in filled}


def test_defaulting_fills_what_tkestack_fills() -> None:
    console = _defaults("console-generate-name.yaml")
    assert console["spec.version"] == "1.21.4-tke.1"  # version "" is read as absent
    assert "metadata.generateName" not in console  # the console's own generateName stays
    assert console["spec.features.skipConditions"] == ["EnsureCilium"]
    bare = _defaults("no-version-docker.yaml")
    assert bare["spec.version"] == "1.21.4-tke.1" and bare["spec.features.containerRuntime"] == "docker"
    assert bare["spec.clusterCIDR"] == "10.244.0.0/16" and bare["spec.networkDevice"] == "eth0"
    assert bare["spec.properties.maxClusterServiceNum"] == 256 and bare["spec.properties.maxNodePodNum"] == 256
    stored = _defaults("stored-after-create.yaml")
    assert stored == {"spec.features.containerRuntime": "docker"}  # containerRuntime "" → TKEStack's API default


def test_no_name_and_no_generate_name_gets_tkestack_s_prefix() -> None:
    data, filled = apply_tkestack_defaults({"apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
                                            "spec": {"version": "1.30.2"}})
    assert data["metadata"] == {"generateName": "cls-"}
    assert data["spec"]["features"]["containerRuntime"] == "containerd"  # above TKEStack 1.8's versions
    assert ("metadata", "generateName") in [d.path for d in filled]


def test_nulls_and_empty_strings_are_absent_but_map_values_stay() -> None:
    data, _ = apply_tkestack_defaults({"metadata": {"name": "cls-a", "labels": {"x": None}}, "spec": {
        "version": "1.21.4-tke.1", "serviceCIDR": None, "networkArgs": {"backendType": "", "k": None},
        "machines": [{"ip": "10.0.0.1", "privateKey": None, "password": ""}]}})
    assert data["metadata"]["labels"] == {"x": ""}
    assert "serviceCIDR" not in data["spec"]
    assert data["spec"]["networkArgs"] == {"backendType": "", "k": ""}
    assert data["spec"]["machines"] == [{"ip": "10.0.0.1"}]


def test_cilium_backend_type_becomes_the_tunnel_protocol() -> None:
    text = (CORPUS / "cilium-docs-geneve.yaml").read_text().replace("1.21.4-tke.1", "1.30.2")
    parsed = parse_cluster(text, "cilium.yaml", schema=load_schema(ROOT, "cluster.schema.json"))
    assert parsed.cluster is not None and not parsed.findings
    assert derive_values("cilium", parsed.cluster)["tunnelProtocol"] == "geneve"
    vxlan = parse_cluster(text.replace("geneve", "vxlan"), "c.yaml", schema=load_schema(ROOT, "cluster.schema.json"))
    assert vxlan.cluster is not None and derive_values("cilium", vxlan.cluster)["tunnelProtocol"] == "vxlan"


def test_an_unknown_flannel_backend_plans_vxlan_with_a_warning() -> None:
    parsed = parse_cluster((CORPUS / "galaxy-unknown-backend.yaml").read_text(), "g.yaml",
                           schema=load_schema(ROOT, "cluster.schema.json"))
    assert parsed.cluster is not None
    assert derive_values("galaxy", parsed.cluster)["flannel"]["backendType"] == "vxlan"


def test_dual_stack_charts_get_the_ipv4_half() -> None:
    parsed = parse_cluster((CORPUS / "dual-stack.yaml").read_text(), "d.yaml",
                           schema=load_schema(ROOT, "cluster.schema.json"))
    assert parsed.cluster is not None and parsed.cluster.cluster_cidr == "10.244.0.0/16"


def test_a_skipped_galaxy_can_still_be_listed_explicitly(tmp_path: Path) -> None:
    text = (CORPUS / "skip-galaxy-own-cni.yaml").read_text() + """  bootstrapApps:
    - app:
        spec:
          type: HelmV3
          name: galaxy
          chart: {chartGroupName: public, chartName: galaxy}
"""
    path = tmp_path / "explicit-galaxy.yaml"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["plan", str(path), "--root", str(ROOT), "-o", "json"])
    document = json.loads(result.stdout)
    assert "galaxy" in {r["name"] for r in document["releases"]}
    assert "no-cni" not in {f["rule"] for f in document["findings"]}


def test_apply_refuses_a_generated_name(tmp_path: Path) -> None:
    helm, kube = FakeHelm(), FakeKube()
    load_catalog(ROOT)
    with pytest.raises(InputError, match="metadata.name is unset"):
        run_apply(CORPUS / "console-generate-name.yaml", session=fake_session(helm, kube), root=ROOT,
                  cache=tmp_path, options=ApplyOptions(), allow_critical_removal=False,
                  confirm=lambda plan: True, progress=lambda line: None)
    assert helm.calls == [] and kube.requests == []


def test_a_secret_value_is_never_quoted_in_a_finding(tmp_path: Path) -> None:
    text = (CORPUS / "no-version-docker.yaml").read_text().replace(
        "  type: Baremetal\n", "  type: Baremetal\n  machines:\n    - ip: 10.0.0.9\n      password: 12345678\n")
    path = tmp_path / "pw.yaml"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["plan", str(path), "--root", str(ROOT), "-o", "json"])
    assert result.exit_code == EXIT_INPUT
    assert "password" in result.stdout and "12345678" not in result.output


def test_a_null_in_a_string_list_keeps_the_positions_of_the_others() -> None:
    data, _ = apply_tkestack_defaults({"metadata": {"name": "cls-a"}, "spec": {"version": "1.21.4-tke.1",
                                      "features": {"skipConditions": [None, "EnsureGalaxy"]}}})
    assert data["spec"]["features"]["skipConditions"][:2] == ["", "EnsureGalaxy"]

"""The controller's pure parts: status and conditions, annotation policy, credentials, backoff."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest

from toolkit.actions.controller import want_key
from toolkit.core.business_access import api_address, kubeconfig_from_credential
from toolkit.core.controller_policy import policy_of
from toolkit.core.controller_status import (
    AppStatus,
    Backoff,
    Kind,
    Verdict,
    app_phase,
    app_statuses,
    cluster_status,
    same_status,
)
from toolkit.core.findings import Finding, Severity
from toolkit.errors import InputError

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"


def conditions(status: dict) -> dict[str, dict]:
    return {c["type"]: c for c in status["conditions"]}


def test_ready_status_keeps_other_writers_conditions_and_lists_apps() -> None:
    current = {"phase": "Running", "conditions": [{"type": "EnsureBootstrapApps", "status": "True"}]}
    apps = (AppStatus("coredns", "kube-system", "Succeeded", "coredns", "1.2.0", "sha256:ab", 3),)
    status = cluster_status(current, Verdict(Kind.READY, "2 releases as wanted", apps), generation=4, now=T0)
    by_type = conditions(status)
    assert by_type["EnsureBootstrapApps"] == {"type": "EnsureBootstrapApps", "status": "True"}
    assert by_type["Ready"]["status"] == "True" and by_type["Ready"]["observedGeneration"] == 4
    assert by_type["Reconciling"]["status"] == "False" and by_type["Stalled"]["status"] == "False"
    assert status["phase"] == "Running" and status["observedGeneration"] == 4
    assert status["apps"] == [{"name": "coredns", "namespace": "kube-system", "phase": "Succeeded",
                               "chart": "coredns", "version": "1.2.0", "digest": "sha256:ab", "revision": 3}]


def test_transition_time_moves_only_when_a_condition_flips() -> None:
    first = cluster_status({}, Verdict(Kind.READY, "ok", ()), 1, T0)
    again = cluster_status(first, Verdict(Kind.READY, "ok", ()), 1, T1)
    assert conditions(again)["Ready"]["lastTransitionTime"] == T0
    assert same_status(first, again)
    failed = cluster_status(again, Verdict(Kind.FAILED, "helm broke", None, failures=1, retrying=True), 1, T1)
    assert conditions(failed)["Ready"]["lastTransitionTime"] == T1
    assert conditions(failed)["Reconciling"]["status"] == "True"
    assert failed["apps"] == [] and failed["failures"] == 1  # apps None: the listed ones are kept
    assert not same_status(again, failed)


def test_invalid_spec_stalls_at_once_and_failures_stall_after_the_limit() -> None:
    finding = Finding(Severity.ERROR, "unknown app 'cilum'", file="Cluster c1", path="$.spec.apps[0]",
                      hint="did you mean 'cilium'?", rule="plan")
    invalid = cluster_status({}, Verdict(Kind.INVALID, "cannot be planned", findings=(finding,)), 2, T0)
    stalled = conditions(invalid)["Stalled"]
    assert stalled["status"] == "True" and stalled["reason"] == "InvalidSpec"
    assert "cilum" in stalled["message"] and "did you mean 'cilium'?" in stalled["message"]
    assert conditions(invalid)["Reconciling"]["status"] == "False"
    for failures, expect in ((4, "False"), (5, "True")):
        verdict = Verdict(Kind.UNREACHABLE, "down", failures=failures, retrying=True, stalled_after=5)
        status = conditions(cluster_status({}, verdict, 2, T0))
        assert status["Stalled"]["status"] == expect
        assert status["Ready"]["reason"] == "ClusterUnreachable"


@pytest.mark.parametrize(("outcome", "action", "phase"), [
    ("installed", "install", "Succeeded"), ("unchanged", "noop", "Succeeded"),
    ("failed", "upgrade", "RolledBack"), ("failed", "install", "Failed"),
    ("skipped", "install", "Skipped"), ("refused", "uninstall", "Refused"), ("odd", "install", "Failed")])
def test_app_phase_uses_tkestack_names(outcome: str, action: str, phase: str) -> None:
    assert app_phase(outcome, action) == phase


def test_app_statuses_drop_uninstalled_and_explain_kept() -> None:
    def release(name: str) -> SimpleNamespace:
        return SimpleNamespace(name=name, namespace="kube-system", chart=name, version="1.0.0", digest="")
    planned = [release("a"), release("b"), release("c")]
    outcomes = {"a": ("upgraded", "upgrade", ""), "b": ("uninstalled", "uninstall", ""),
                "c": ("kept", "uninstall", "")}
    apps = app_statuses(planned, outcomes, {("kube-system", "a"): 7})
    assert [(a.name, a.phase, a.revision) for a in apps] == [("a", "Succeeded", 7), ("c", "Succeeded", None)]
    assert "tke-catalog.io/prune is false" in apps[1].message


def test_policy_reads_annotations_and_refuses_what_it_cannot_read() -> None:
    obj = {"metadata": {"annotations": {"tke-catalog.io/prune": "False", "tke-catalog.io/deletion-policy": "orphan",
                                        "tke-catalog.io/target": "management"}}}
    policy, findings = policy_of(obj, "Cluster c1")
    assert findings == [] and not policy.prune and not policy.uninstall_on_delete and policy.management
    assert not policy.allow_critical_removal and not policy.insecure_credential
    default, _ = policy_of({"metadata": {}}, "Cluster c1")
    assert default.prune and default.uninstall_on_delete and not default.management
    _, bad = policy_of({"metadata": {"annotations": {"tke-catalog.io/prune": "yes please"}}}, "Cluster c1")
    assert len(bad) == 1 and bad[0].rule == "controller-policy"
    assert bad[0].path == "$.metadata.annotations['tke-catalog.io/prune']" and "'true' or 'false'" in bad[0].hint


def test_want_key_ignores_status_and_foreign_annotations_but_not_ours() -> None:
    obj = {"metadata": {"name": "c1", "annotations": {"other.io/x": "1"}}, "spec": {"apps": []},
           "status": {"phase": "Running"}}
    key = want_key(obj)
    assert want_key({**obj, "status": {"phase": "Failed"}}) == key
    assert want_key({**obj, "metadata": {"name": "c1", "annotations": {"other.io/x": "2"}}}) == key
    assert want_key({**obj, "metadata": {"name": "c1", "annotations": {"tke-catalog.io/prune": "false"}}}) != key
    assert want_key({**obj, "spec": {"apps": [{"name": "x"}]}}) != key
    assert want_key({**obj, "metadata": {"name": "c1", "annotations": {"other.io/x": "1"},
                                         "deletionTimestamp": T0}}) != key


def test_backoff_doubles_to_its_cap_and_resets() -> None:
    backoff = Backoff(base=2, cap=10)
    assert [backoff.failed("c1") for _ in range(5)] == [2, 4, 8, 10, 10]
    assert backoff.count("c1") == 5 and backoff.failed("c2") == 2
    backoff.succeeded("c1")
    assert backoff.count("c1") == 0 and backoff.failed("c1") == 2


CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----").decode()


def cluster(addresses: list[dict]) -> dict:
    return {"metadata": {"name": "c1"}, "status": {"addresses": addresses}}


def test_api_address_prefers_advertise_then_real() -> None:
    addresses = [{"type": "Internal", "host": "10.0.0.1", "port": 6443},
                 {"type": "Real", "host": "1.2.3.4", "port": 6443},
                 {"type": "Advertise", "host": "api.example", "port": 443, "path": "/c1"}]
    assert api_address(cluster(addresses)) == "https://api.example:443/c1"
    assert api_address(cluster(addresses[:2])) == "https://1.2.3.4:6443"
    assert api_address(cluster([])) is None


def test_kubeconfig_from_credential_with_token_or_certificate() -> None:
    doc = kubeconfig_from_credential(cluster([{"type": "Real", "host": "h", "port": 6443}]),
                                     {"caCert": CA, "token": "t0k"})
    assert doc["clusters"][0]["cluster"] == {"server": "https://h:6443", "certificate-authority-data": CA}
    assert doc["users"][0]["user"] == {"token": "t0k"} and doc["current-context"] == "c1"
    cert = kubeconfig_from_credential(cluster([{"type": "Real", "host": "h", "port": 6443}]),
                                      {"caCert": CA, "clientCert": "Y2VydA==", "clientKey": "a2V5"})
    assert cert["users"][0]["user"] == {"client-certificate-data": "Y2VydA==", "client-key-data": "a2V5"}


def test_kubeconfig_from_credential_refuses_what_cannot_be_trusted() -> None:
    reachable = cluster([{"type": "Real", "host": "h", "port": 6443}])
    with pytest.raises(InputError, match="no caCert") as no_ca:
        kubeconfig_from_credential(reachable, {"token": "t0k"})
    assert "insecure-skip-tls-verify" in (no_ca.value.hint or "")
    insecure = kubeconfig_from_credential(reachable, {"token": "t0k"}, insecure=True)
    assert insecure["clusters"][0]["cluster"]["insecure-skip-tls-verify"] is True
    with pytest.raises(InputError, match="neither a token"):
        kubeconfig_from_credential(reachable, {"caCert": CA})
    with pytest.raises(InputError, match="no API server address"):
        kubeconfig_from_credential(cluster([]), {"caCert": CA, "token": "t"})

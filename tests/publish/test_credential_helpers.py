"""docker's `credHelpers` and `credsStore`: which helper the core picks, how the adapter runs a real
helper program (a small script this test writes onto PATH), and `publish` authenticating through it
against the real basic-auth registry, without the password ever showing."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.publish.conftest import EPOCH, cli_registry_args, make_charts
from toolkit.actions.registry_access import RegistryAccess
from toolkit.adapters.credential_helpers import ask_credential_helper
from toolkit.adapters.settings import load_registry_environment
from toolkit.cli import cli
from toolkit.core.credentials import (
    CredentialHelper,
    Credentials,
    auth_config_lookup,
    credential_helper_for,
    credentials_from_helper,
)
from toolkit.errors import InputError, OperationalError

SECRET = "s3cret-from-the-helper"


def write_helper(folder: Path, name: str, stored: dict[str, tuple[str, str]], *, fail: str = "") -> Path:
    """`docker-credential-NAME`: answers `get` for the servers in `stored`, says "not found" for any
    other, or fails with `fail`; logs each call (argv, stdin) to NAME.log in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / f"docker-credential-{name}"
    log = folder / f"{name}.log"
    script.write_text(f"""#!{sys.executable}
import json, sys
STORED = json.loads({json.dumps(json.dumps(stored))})
args, server = sys.argv[1:], sys.stdin.read()
with open({str(log)!r}, "a") as log:
    log.write(json.dumps([args, server]) + "\\n")
if {fail!r}:
    print({fail!r})
    sys.exit(1)
if args != ["get"]:
    print("unknown credential action")
    sys.exit(1)
if server not in STORED:
    print("credentials not found in native keychain")
    sys.exit(1)
user, secret = STORED[server]
print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
""")
    script.chmod(0o755)
    return log


def calls(log: Path) -> list[list[object]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _config(**entries: object) -> bytes:
    return json.dumps(entries).encode()


# --- the pure choice --------------------------------------------------------------------------------

def test_cred_helpers_for_the_host_win_over_creds_store_and_auths() -> None:
    auth = base64.b64encode(b"ann:pw").decode()
    config = _config(credsStore="desktop", credHelpers={"reg.example.com:5000": "tketest", "keep.example.com": ""},
                     auths={"reg.example.com:5000": {"auth": auth}, "keep.example.com": {"auth": auth}})
    helper = auth_config_lookup(config, "reg.example.com:5000", "cfg")
    assert helper == CredentialHelper("tketest", "reg.example.com:5000", "cfg", "credHelpers",
                                      "credHelpers['reg.example.com:5000']")
    assert helper.program == "docker-credential-tketest"
    other = credential_helper_for(config, "other.example.com", "cfg")
    assert other is not None and (other.name, other.key, other.server) == ("desktop", "credsStore", "other.example.com")
    # an empty credHelpers entry is docker's way to keep one host in `auths` despite the credsStore
    assert auth_config_lookup(config, "keep.example.com", "cfg") == Credentials("ann", "pw", "cfg")
    assert auth_config_lookup(_config(auths={"x": {"auth": auth}}), "x", "cfg") == Credentials("ann", "pw", "cfg")
    assert auth_config_lookup(_config(), "x", "cfg") is None


def test_helper_keys_and_names() -> None:
    by_url = credential_helper_for(_config(credHelpers={"https://reg.example.com/v1/": "tketest"}),
                                   "reg.example.com", "cfg")
    assert by_url is not None and by_url.name == "tketest"
    hub = credential_helper_for(_config(credsStore="pass"), "registry-1.docker.io", "cfg")
    assert hub is not None and hub.server == "https://index.docker.io/v1/"  # what docker asks for Docker Hub
    for bad in ("../../bin/sh", "-x", 7):
        with pytest.raises(InputError, match="credential helper"):
            credential_helper_for(_config(credHelpers={"h": bad}), "h", "cfg")
    with pytest.raises(InputError, match="not valid JSON"):
        credential_helper_for(b"{", "h", "cfg")


def test_reading_a_helper_answer_never_quotes_the_secret() -> None:
    helper = CredentialHelper("tketest", "h", "cfg", "credsStore", "credsStore")
    found = credentials_from_helper(json.dumps({"ServerURL": "h", "Username": "ann", "Secret": SECRET}).encode(),
                                    helper)
    assert found == Credentials("ann", SECRET, "cfg (credsStore: docker-credential-tketest)")
    assert SECRET not in repr(found) and SECRET not in str(found) and SECRET not in repr(helper)
    assert credentials_from_helper(b'{"ServerURL": "h", "Username": "", "Secret": ""}', helper) is None
    with pytest.raises(OperationalError, match="identity token") as token:
        credentials_from_helper(json.dumps({"Username": "<token>", "Secret": SECRET}).encode(), helper)
    with pytest.raises(OperationalError, match="other than credentials JSON") as garbled:
        credentials_from_helper(f"Username=ann Secret={SECRET}".encode(), helper)
    for error in (token.value, garbled.value):
        assert SECRET not in str(error) and "docker-credential-tketest" in str(error)


# --- the adapter, running a real helper program -------------------------------------------------------

def _helper(name: str, server: str) -> CredentialHelper:
    return CredentialHelper(name, server, "/home/u/.docker/config.json", "credsStore", "credsStore")


def test_ask_credential_helper_speaks_the_protocol(tmp_path: Path) -> None:
    log = write_helper(tmp_path / "bin", "tketest", {"reg.example.com:5000": ("ann", SECRET)})
    path = str(tmp_path / "bin")
    found = ask_credential_helper(_helper("tketest", "reg.example.com:5000"), search_path=path)
    assert found is not None and (found.username, found.password) == ("ann", SECRET)
    assert "docker-credential-tketest" in found.source and SECRET not in repr(found)
    assert ask_credential_helper(_helper("tketest", "other.example.com"), search_path=path) is None
    # `get` as the only argument and the bare server on stdin, as docker's client sends them
    assert calls(log) == [[["get"], "reg.example.com:5000"], [["get"], "other.example.com"]]


def test_a_missing_or_failing_helper_names_itself_and_the_fix(tmp_path: Path) -> None:
    write_helper(tmp_path / "bin", "tkebroken", {}, fail="error: the keyring is locked")
    path = str(tmp_path / "bin")
    with pytest.raises(OperationalError) as missing:
        ask_credential_helper(_helper("tkeabsent", "h"), search_path=path)
    assert "docker-credential-tkeabsent" in str(missing.value) and "not on PATH" in str(missing.value)
    assert "install docker-credential-tkeabsent" in str(missing.value)
    assert "remove credsStore from /home/u/.docker/config.json" in str(missing.value)
    with pytest.raises(OperationalError) as failing:
        ask_credential_helper(_helper("tkebroken", "h"), search_path=path)
    text = str(failing.value)
    assert "docker-credential-tkebroken get failed for h (exit 1): error: the keyring is locked" in text
    assert "docker login h" in text


def test_registry_access_asks_the_helper_of_each_config_in_helm_then_docker_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = write_helper(tmp_path / "bin", "tketest", {"reg.example.com": ("ann", SECRET)})
    helm_config, docker = tmp_path / "helm.json", tmp_path / "docker"
    docker.mkdir()
    helm_config.write_text(json.dumps({"credsStore": "tketest"}))  # it has nothing for other hosts
    (docker / "config.json").write_text(json.dumps(
        {"credHelpers": {"reg.example.com": "tketest"},
         "auths": {"other.example.com": {"auth": base64.b64encode(b"bob:pw").decode()}}}))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("HELM_REGISTRY_CONFIG", str(helm_config))
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
    monkeypatch.delenv("TKE_CATALOG_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("TKE_CATALOG_REGISTRY_PASSWORD", raising=False)
    assert SECRET not in repr(load_registry_environment())
    found = RegistryAccess().credentials("reg.example.com")
    assert found is not None and found.password == SECRET and found.source.startswith(str(helm_config))
    other = RegistryAccess().credentials("other.example.com")  # helm's store has none: docker's auths
    assert other == Credentials("bob", "pw", str(docker / "config.json"))
    assert [server for _args, server in calls(log)] == ["reg.example.com", "other.example.com"]


# --- publish against the real basic-auth registry --------------------------------------------------

@pytest.mark.registry
def test_publish_authenticates_through_a_credential_helper(fresh_registry, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = fresh_registry("basic")
    assert server.username and server.password
    bin_dir, docker = tmp_path / "bin", tmp_path / "docker"
    log = write_helper(bin_dir, "tketest", {server.host: (server.username, server.password)})
    write_helper(bin_dir, "tkewrong", {server.host: (server.username, "not-the-password")})
    docker.mkdir()
    wrong_auth = base64.b64encode(f"{server.username}:stale-password".encode()).decode()
    make_charts(tmp_path, ("zeta",))
    env: dict[str, str | None] = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "DOCKER_CONFIG": str(docker),
        "HELM_REGISTRY_CONFIG": str(tmp_path / "none.json"), "SOURCE_DATE_EPOCH": str(EPOCH),
        "TKE_CATALOG_REGISTRY_USERNAME": None, "TKE_CATALOG_REGISTRY_PASSWORD": None}

    def publish(config: dict[str, object], *extra: str) -> tuple[int, str]:
        (docker / "config.json").write_text(json.dumps(config))
        result = CliRunner().invoke(cli, ["publish", "--root", str(tmp_path), "--registry", server.oci("helper"),
                                          *cli_registry_args(server), *extra], env=env)
        output = result.stdout + result.stderr
        assert server.password not in output and "not-the-password" not in output
        return result.exit_code, output

    # the helper for the host wins over a stale `auths` entry, as in docker
    code, output = publish({"credHelpers": {server.host: "tketest"}, "auths": {server.host: {"auth": wrong_auth}}},
                           "-o", "json")
    assert code == 0, output
    assert calls(log) == [[["get"], server.host]]

    code, output = publish({"credsStore": "tkewrong"})
    assert code == 1 and f"refused user {server.username!r}" in output
    assert "credsStore: docker-credential-tkewrong" in output  # where the refused credentials came from

    code, output = publish({"credsStore": "tkemissing"})
    assert code == 1 and "docker-credential-tkemissing" in output and "not on PATH" in output

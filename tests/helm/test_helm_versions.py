"""Helm 3 and helm 4 through one adapter: the argv rewrite for helm 4 (pure), version detection and the
refusal of old helms (fake executables), and which helm runs (settings). The real helms run the whole
helm-marked suite, once per major (`.ci/run`)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from toolkit.adapters.helm import (
    MINIMUM_VERSION,
    Helm,
    HelmVersion,
    adapt_argv,
    check_supported,
    detect_version,
    parse_version,
)
from toolkit.adapters.settings import (
    HELM_FROM_CACHE,
    HELM_FROM_ENV,
    HELM_FROM_FLAG,
    HELM_FROM_NOWHERE,
    HELM_FROM_PATH,
    load_settings,
)
from toolkit.errors import HelmError

# --- adapt_argv: pyhelm3's helm 3 command lines, rewritten for helm 4 ------------------------------

UPGRADE = ["upgrade", "dns", "/c/dns.tgz", "--history-max", 10, "--install", "--output", "json", "--timeout", "300s",
           "--values", "-", "--create-namespace", "--description", "tke-catalog apply (c1)", "--namespace", "kube-system"]


def test_helm_3_argv_is_left_alone() -> None:
    argv = [*UPGRADE, "--atomic", "--force"]
    assert adapt_argv(argv, 3) == argv
    assert adapt_argv(["list", "--max", 0, "--output", "json", "--all", "--all-namespaces"], 3)[-2:] == [
        "--all", "--all-namespaces"]


def test_helm_4_lists_every_state_without_all() -> None:
    assert adapt_argv(["list", "--max", 0, "--output", "json", "--all", "--all-namespaces"], 4) == [
        "list", "--max", 0, "--output", "json", "--all-namespaces"]


def test_helm_4_gets_the_new_names_of_atomic_and_force() -> None:
    assert adapt_argv([*UPGRADE, "--atomic", "--force", "--wait", "--wait-for-jobs"], 4) == [
        *UPGRADE, "--rollback-on-failure", "--force-replace", "--wait", "--wait-for-jobs"]
    assert adapt_argv(["rollback", "dns", "--history-max", 10, "--timeout", "60s", "--force"], 4)[-1] == "--force-replace"


def test_helm_4_keeps_all_where_it_still_means_something() -> None:
    argv = ["get", "values", "dns", "--output", "json", "--all", "--namespace", "kube-system"]
    assert adapt_argv(argv, 4) == argv


def test_values_that_look_like_flags_are_never_rewritten() -> None:
    argv = ["upgrade", "r", "c", "--description", "--atomic", "--namespace", "--all", "--install"]
    assert adapt_argv(argv, 4) == argv
    assert adapt_argv(["list", "--output", "--all"], 4) == ["list", "--output", "--all"]


def test_a_flag_helm_4_removed_without_replacement_is_refused() -> None:
    with pytest.raises(HelmError, match="--recreate-pods does not exist in helm 4"):
        adapt_argv(["rollback", "dns", "--recreate-pods"], 4)


def test_unchanged_verbs_pass_through_for_helm_4() -> None:
    for argv in (["lint", "--strict", "/c", "--values", "/v.yaml"],
                 ["template", "r", "/c", "--include-crds", "--values", "-", "--namespace", "n"],
                 ["uninstall", "r", "--timeout", "60s", "--namespace", "n", "--wait"],
                 ["version", "--template", "{{ .Version }}"]):
        assert adapt_argv(argv, 4) == argv


# --- versions and the refusal below the minimum ------------------------------------------------------

@pytest.mark.parametrize(("text", "version"), [
    ("v3.22.0", HelmVersion(3, 22, 0)), ("v4.3.2\n", HelmVersion(4, 3, 2)), ("3.18.5", HelmVersion(3, 18, 5)),
    ("v4.0.0-rc.1", HelmVersion(4, 0, 0)), ("v3.22.0+g1234abc", HelmVersion(3, 22, 0)),
    ("v3.22", None), ("", None), ("helm", None), ("v03.1.0", None),
])
def test_parse_version(text: str, version: HelmVersion | None) -> None:
    assert parse_version(text) == version


def test_versions_order_by_number() -> None:
    assert HelmVersion(3, 9, 0) < HelmVersion(3, 18, 5) < HelmVersion(3, 22, 0) < HelmVersion(4, 0, 0)
    assert str(MINIMUM_VERSION) == "v3.18.5"


def test_an_old_helm_is_refused_naming_the_minimum_and_where_it_came_from() -> None:
    check_supported(MINIMUM_VERSION, "/usr/bin/helm", "helm on PATH")
    check_supported(HelmVersion(4, 3, 2), "/usr/bin/helm", "helm on PATH")
    with pytest.raises(HelmError) as caught:
        check_supported(HelmVersion(3, 14, 4), "/usr/bin/helm", "helm on PATH")
    assert "helm v3.14.4 at /usr/bin/helm (helm on PATH) is older than v3.18.5" in caught.value.message
    assert caught.value.hint is not None and "--helm" in caught.value.hint
    with pytest.raises(HelmError, match="does not know yet"):
        check_supported(HelmVersion(5, 0, 0), "/opt/helm5", "--helm")


def _fake_helm(folder: Path, prints: str, exit_code: int = 0, name: str = "helm") -> Path:
    """An executable that answers `helm version --template ...` with `prints`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\nprintf '%s' '{prints}'\nexit {exit_code}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def test_detect_version_reads_the_version_once(tmp_path: Path) -> None:
    helm = _fake_helm(tmp_path, "v4.3.2")
    assert detect_version(str(helm)) == HelmVersion(4, 3, 2)
    assert Helm(str(helm), source="--helm").major == 4
    helm.write_text("#!/bin/sh\nexit 1\n")  # not asked again in this process
    assert detect_version(str(helm)) == HelmVersion(4, 3, 2)


def test_helm_adapter_refuses_an_old_helm(tmp_path: Path) -> None:
    helm = _fake_helm(tmp_path, "v3.12.3")
    with pytest.raises(HelmError) as caught:
        Helm(str(helm), source="TKE_CATALOG_HELM")
    assert f"helm v3.12.3 at {helm} (TKE_CATALOG_HELM) is older than v3.18.5" in caught.value.message


def test_unreadable_and_missing_helms_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(HelmError, match="not vMAJOR.MINOR.PATCH") as caught:
        detect_version(str(_fake_helm(tmp_path / "a", "v3.22")))
    assert caught.value.hint is not None and "ldflags" in caught.value.hint
    with pytest.raises(HelmError, match="`helm version` failed"):
        detect_version(str(_fake_helm(tmp_path / "b", "boom", exit_code=2)))
    with pytest.raises(HelmError, match=r"not found"):
        detect_version(str(tmp_path / "nowhere" / "helm"), "--helm")


def test_a_given_version_skips_detection() -> None:
    assert Helm("/does/not/exist", version=HelmVersion(3, 22, 0)).major == 3


# --- which helm runs: --helm > TKE_CATALOG_HELM > helm on PATH > the cached build ---------------------

@pytest.fixture
def helms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    cache = tmp_path / "cache"
    cached = _fake_helm(cache / "bin", "v3.22.0")
    on_path = _fake_helm(tmp_path / "path", "v4.3.2")
    monkeypatch.setenv("TKE_CATALOG_CACHE", str(cache))
    monkeypatch.setenv("PATH", f"{on_path.parent}{os.pathsep}/usr/bin")
    monkeypatch.delenv("TKE_CATALOG_HELM", raising=False)
    return cached, on_path


def test_helm_on_path_wins_over_the_cached_build(helms: tuple[Path, Path]) -> None:
    settings = load_settings()
    assert (settings.helm, settings.helm_source) == (str(helms[1]), HELM_FROM_PATH)


def test_the_cached_build_when_path_has_no_helm(helms: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    settings = load_settings()
    assert (settings.helm, settings.helm_source) == (str(helms[0]), HELM_FROM_CACHE)


def test_environment_then_flag_win(helms: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TKE_CATALOG_HELM", "/opt/helm-env")
    assert (load_settings().helm, load_settings().helm_source) == ("/opt/helm-env", HELM_FROM_ENV)
    assert (load_settings(helm="/opt/helm-flag").helm, load_settings(helm="/opt/helm-flag").helm_source) == (
        "/opt/helm-flag", HELM_FROM_FLAG)


def test_no_helm_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TKE_CATALOG_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("TKE_CATALOG_HELM", raising=False)
    assert (load_settings().helm, load_settings().helm_source) == ("helm", HELM_FROM_NOWHERE)


def test_lint_and_apply_take_helm_and_refuse_an_old_one(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from toolkit.cli import cli
    from toolkit.errors import EXIT_OPERATIONAL

    old = _fake_helm(tmp_path / "old", "v3.13.3")
    result = CliRunner().invoke(cli, ["lint", "--helm", str(old)])
    assert result.exit_code == EXIT_OPERATIONAL, result.output
    assert f"helm v3.13.3 at {old} (--helm) is older than v3.18.5" in result.stderr
    for verb in ("apply", "plan", "lint"):
        assert "--helm PATH" in CliRunner().invoke(cli, [verb, "--help"]).output

"""The start-up budget: help and usage errors answer without importing the work (issue: every verb's
--help used to import its whole action, and the top-level help every verb)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from toolkit.cli import _VERBS

HEAVY = ("jsonschema", "jsonschema_rs", "urllib3", "pyhelm3", "ruamel", "yaml", "semver", "requests", "prometheus_client",
         "pydantic", "toolkit.actions", "toolkit.adapters.helm", "toolkit.adapters.registry", "toolkit.adapters.kube")

PROBE = """
import sys
sys.argv = ["tke-catalog", *sys.argv[1:]]
from toolkit.cli import main
try:
    main()
except SystemExit as done:
    code = done.code
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
print("exit", code, file=sys.stderr)
"""


def imported(*args: str) -> tuple[set[str], int]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
    lines = done.stderr.splitlines()
    assert lines and lines[-1].startswith("exit "), done.stderr[-2000:]
    return set(lines[:-1]), int(lines[-1].split()[1])


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_top_level_help_imports_no_verb_module() -> None:
    modules, code = imported("--help")
    assert code == 0
    assert heavy(modules) == [] and "logging" not in modules
    assert not any(m.startswith("toolkit.cli.") and m.rsplit(".", 1)[1] in {e[0] for e in _VERBS.values()}
                   for m in modules), sorted(m for m in modules if m.startswith("toolkit.cli."))


@pytest.mark.parametrize("verb", sorted(_VERBS))
def test_verb_help_imports_only_click_and_light_modules(verb: str) -> None:
    modules, code = imported(verb, "--help")
    assert code == 0
    assert heavy(modules) == [], f"`tke-catalog {verb} --help` imports {heavy(modules)}"


@pytest.mark.parametrize("args", [("plan",), ("apply",), ("publish",), ("lint", "--jobs", "0"),
                                  ("apps", "add", "--help"), ("deps", "update", "--help"), ("nosuchverb",)])
def test_usage_errors_and_sub_command_help_stay_light(args: tuple[str, ...]) -> None:
    modules, code = imported(*args)
    assert code in (0, 64)
    assert heavy(modules) == [], f"`tke-catalog {' '.join(args)}` imports {heavy(modules)}"


def test_the_top_level_help_lists_every_verb_in_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "toolkit", "--help"], capture_output=True, text=True, timeout=60)
    listing = done.stdout.split("Commands:", 1)[1].splitlines()
    assert [line.split()[0] for line in listing if line.strip()] == list(_VERBS)
    assert all(len(line) <= 80 for line in listing)

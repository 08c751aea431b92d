"""Shell completion (click's, through `_TKE_CATALOG_COMPLETE`) against the real `python -m toolkit`
process: the scripts for bash, zsh and fish, verb names from the lazily loaded verbs, a verb's options
and an option's choices."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERBS = ["apply", "apps", "build", "controller", "deps", "diff", "history", "images", "lint", "matrix", "mirror", "plan", "publish", "pull",
         "rollback", "scheduler-config", "status", "template", "uninstall", "validate"]


def _complete(instruction: str, words: str, cword: str, *, code: str = "") -> str:
    """What the CLI answers the shell for `instruction` (e.g. `bash_complete`), with the shell's
    COMP_WORDS/COMP_CWORD; `code` runs in the same process after it (to look at sys.modules)."""
    env = {**os.environ, "_TKE_CATALOG_COMPLETE": instruction, "COMP_WORDS": words, "COMP_CWORD": cword}
    program = f"import sys\nfrom toolkit.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n{code}"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=60, check=False)
    assert result.returncode == 0 and not result.stderr, result.stderr
    return result.stdout


@pytest.mark.parametrize("shell, marker", [
    ("bash", "complete -o nosort -F _tke_catalog_completion tke-catalog"),
    ("zsh", "compdef _tke_catalog_completion tke-catalog"),
    ("fish", "complete --no-files --command tke-catalog"),
])
def test_the_source_script_for_each_shell(shell: str, marker: str) -> None:
    script = _complete(f"{shell}_source", "", "")
    assert marker in script and f"_TKE_CATALOG_COMPLETE={shell}_complete" in script


def test_verb_names_complete_without_importing_the_verbs() -> None:
    out = _complete("bash_complete", "tke-catalog ", "1",
                    code="print(sorted(m for m in sys.modules if m.startswith('toolkit.cli.')))")
    *lines, imported = out.splitlines()
    assert lines == [f"plain,{verb}" for verb in VERBS]
    assert imported == "[]"  # a TAB stays as quick as `--version`
    assert _complete("bash_complete", "tke-catalog p", "1").split() == ["plain,plan", "plain,publish", "plain,pull"]
    assert "plain,--debug" in _complete("bash_complete", "tke-catalog --", "1").split()
    assert _complete("fish_complete", "tke-catalog ap", "ap").split() == ["plain,apply", "plain,apps"]


def test_a_verbs_options_and_an_options_choices() -> None:
    options = _complete("bash_complete", "tke-catalog publish --", "2").split()
    assert {"plain,--registry", "plain,--password-stdin", "plain,--output", "plain,--root"} <= set(options)
    zsh = _complete("zsh_complete", "tke-catalog --debug publish --re", "3").splitlines()
    assert zsh[:3] == ["plain", "--registry", "Where to push the charts."]  # zsh shows each option's help
    assert _complete("bash_complete", "tke-catalog plan --output ", "3").split() == [
        "plain,text", "plain,json", "plain,yaml", "plain,table"]
    assert _complete("bash_complete", "tke-catalog plan --root ", "3").split() == ["dir,"]

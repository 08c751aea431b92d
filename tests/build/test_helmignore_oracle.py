"""`.helmignore` against helm itself, on generated cases: for each case a chart folder with a few rules
and a file tree; `helm package` of many folders in one call says which files helm keeps (or that it
refuses the folder), and our `chart_files` must say the same. The patterns mix what trips people up:
Go's classes (`[!a]` is not a negation, `[a-]` and `[]a]` are errors), escapes and a trailing `\\`,
lone `!` rules, `//` at either end, BOMs and CRLF line ends, rules matching Chart.yaml itself.

CI runs a sample (TKE_CATALOG_HELMIGNORE_CASES, default 500); the full run by hand is
`TKE_CATALOG_HELMIGNORE_CASES=32000 .venv/bin/python -m pytest --timeout 0 tests/build/test_helmignore_oracle.py`
(about 25 minutes).
"""

from __future__ import annotations

import os
import random
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.registry_fixtures import require_helm
from toolkit.adapters.helm import detect_version
from toolkit.core.archive import chart_files
from toolkit.errors import InputError

pytestmark = [pytest.mark.helm]

CASES = int(os.environ.get("TKE_CATALOG_HELMIGNORE_CASES", "500"))
BATCH = 400
SEED = 20261202

DIRS = ("foo", "foo/bar", "bar", "templates", "crds", "a-b", "d", "d/e")
FILES = ("a", "b", "ab", "a.txt", "b.txt", ".hidden", "!a", "a!", "-", "[x]", "x]", "b\\c", "é.txt",
         "foo/a", "foo/a.txt", "foo/bar/baz", "foo/bar/a", "bar/foo", "bar/.x", "templates/a.yaml",
         "templates/.b", "templates/_h.tpl", "templates/NOTES.txt", "crds/c.yaml", "a-b/x", "d/e/a",
         "d/a.txt", "README.md")
LITERALS = ("a", "b", "foo", "bar", "txt", ".", "-", "!", "é", "Chart", "yaml", "templates", "x", "e")
WILD = ("*", "?", "*.txt", ".*", "?.txt")
CLASSES = ("[a]", "[!a]", "[^a]", "[a-c]", "[ab]", "[a-]", "[]a]", "[\\]]", "[", "]", "[^]", "[é]", "[-a]",
           "[x-z]", "[\\-]")
ESCAPES = ("\\*", "\\a", "\\", "\\[", "\\!")


def _token(rng: random.Random) -> str:
    pool = rng.choice((LITERALS, LITERALS, WILD, CLASSES, ESCAPES))
    return rng.choice(pool)


def _near_a_path(rng: random.Random) -> str:
    """A file or folder name of the pool (whole, base name or folder) with a few characters swapped for
    wildcards, so that rules often do match."""
    path = rng.choice(FILES + DIRS)
    path = rng.choice((path, path.rsplit("/", 1)[-1], path.split("/", 1)[0]))
    chars = list(path)
    for _ in range(rng.randint(0, 2)):
        at = rng.randrange(len(chars))
        chars[at] = rng.choice(("?", "*", f"[{chars[at]}]", "[!x]", "[^x]", "\\" + chars[at]))
    return "".join(chars)


def _pattern(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        return "!"
    if roll < 0.05:
        return rng.choice(("**", "foo/**", "# comment", "", "   ", "Chart.yaml", ".helmignore", "*", "*/"))
    if rng.random() < 0.45:
        body = _near_a_path(rng)
    else:
        body = "".join(_token(rng) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.35:
        body += "/" + "".join(_token(rng) for _ in range(rng.randint(1, 2)))
    if rng.random() < 0.15:
        body = rng.choice(("/", "//")) + body
    if rng.random() < 0.15:
        body += rng.choice(("/", "//"))
    if rng.random() < 0.04:
        body = "!" + body
    elif rng.random() < 0.04:  # negations that keep Chart.yaml, so the folder still packages
        body = rng.choice(("!*.yaml", "!Chart*", "!C?art.yaml", "![A-Z]*", "!*.*"))
    if rng.random() < 0.08:
        body = rng.choice((" ", "\t")) + body + rng.choice((" ", "\t", ""))
    return body


@dataclass(frozen=True)
class Case:
    name: str
    helmignore: bytes
    files: tuple[str, ...]


def _case(rng: random.Random, index: int) -> Case:
    rules = [_pattern(rng) for _ in range(rng.randint(1, 3))]
    newline = b"\r\n" if rng.random() < 0.05 else b"\n"
    text = newline.join(r.encode("utf-8") for r in rules) + (newline if rng.random() < 0.8 else b"")
    if rng.random() < 0.05:
        text = b"\xef\xbb\xbf" + text
    return Case(f"c{index:05d}", text, tuple(sorted(rng.sample(FILES, rng.randint(3, 9)))))


def _write(root: Path, case: Case) -> Path:
    folder = root / case.name
    for path in case.files:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(b"x\n")
    folder.mkdir(exist_ok=True)
    (folder / "Chart.yaml").write_text(f"apiVersion: v2\nname: {case.name}\nversion: 0.1.0\n")
    (folder / ".helmignore").write_bytes(case.helmignore)
    return folder


def _ours(case: Case, helm_major: int) -> frozenset[str] | None:
    files = {path: b"x\n" for path in case.files}
    files["Chart.yaml"] = b"chart"
    files[".helmignore"] = case.helmignore
    try:
        kept = chart_files(files, source=case.name, helm_major=helm_major)
    except InputError:
        return None
    return frozenset(kept) if "Chart.yaml" in kept else None


def _helm_package(folders: list[Path], out: Path) -> subprocess.CompletedProcess[str]:
    env = {"HELM_CACHE_HOME": str(out / ".cache"), "HELM_CONFIG_HOME": str(out / ".config"),
           "HELM_DATA_HOME": str(out / ".data"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(require_helm()), "package", "--destination", str(out), *map(str, folders)],  # noqa: S603
                          capture_output=True, text=True, env=env, timeout=600, check=False)


def _helms(root: Path, cases: list[Case]) -> dict[str, frozenset[str] | None]:
    """What helm keeps of each case (None: helm refuses it), packaging many folders per helm call."""
    out = root / "out"
    out.mkdir(parents=True)
    answers: dict[str, frozenset[str] | None] = {}
    pending = [_write(root, case) for case in cases]
    while pending:
        batch, pending = pending[:BATCH], pending[BATCH:]
        result = _helm_package(batch, out)
        done = result.stdout.count("Successfully packaged chart")
        for folder in batch[:done]:
            with tarfile.open(out / f"{folder.name}-0.1.0.tgz") as archive:
                answers[folder.name] = frozenset(m.name.split("/", 1)[1] for m in archive.getmembers() if m.isfile())
        if result.returncode != 0:
            answers[batch[done].name] = None  # helm stops at the first folder it refuses
            pending = batch[done + 1:] + pending
    return answers


def test_helmignore_selects_the_files_helm_packages(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    cases = [_case(rng, i) for i in range(CASES)]
    major = detect_version(str(require_helm())).major  # helm 3 and 4 read `//rule` differently
    ours = {case.name: _ours(case, major) for case in cases}
    # folders we expect helm to refuse go one per call; the rest in large batches
    refused = [c for c in cases if ours[c.name] is None]
    helms = _helms(tmp_path / "ok", [c for c in cases if ours[c.name] is not None])
    for case in refused:
        helms.update(_helms(tmp_path / case.name, [case]))
    disagreements = [(c.helmignore, c.files, ours[c.name], helms[c.name]) for c in cases
                     if ours[c.name] != helms[c.name]]
    assert not disagreements, f"{len(disagreements)} of {len(cases)} cases disagree; first: {disagreements[:3]}"
    assert len(refused) > CASES // 50, "the sample should hold patterns helm refuses"
    assert sum(1 for c in cases if ours[c.name] and len(ours[c.name] or ()) < len(c.files) + 2) > CASES // 8

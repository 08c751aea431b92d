"""The README's table of environment variables is every variable the package reads, and no other."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_READ = re.compile(r"""(?:env|environ)(?:\.get)?[(\[]\s*"([A-Z][A-Z0-9_]+)"|^[A-Z_]+_ENV\s*=\s*"([A-Z][A-Z0-9_]+)\"""",
                   re.M)


def read_by_the_package() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "toolkit").rglob("*.py"):
        for found in _READ.finditer(path.read_text()):
            names.add(found.group(1) or found.group(2))
    return names


def documented() -> set[str]:
    block = (ROOT / "README.md").read_text().split("<!-- env:", 1)[1].split("<!-- /env -->", 1)[0]
    return {name for row in re.findall(r"^\| (.+?) \|", block, flags=re.M) for name in re.findall(r"`([A-Z_]+)`", row)}


def test_the_readme_table_names_exactly_the_variables_the_package_reads() -> None:
    read = read_by_the_package()
    assert {"TKE_CATALOG_HELM", "TKE_CATALOG_CONFIG", "KUBECONFIG"} <= read  # the scan itself works
    assert documented() == read

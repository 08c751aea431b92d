"""Each checkout has its own dev stack: two clones never share (or tear down) each other's cluster."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def devstack(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """scripts/devstack.py loaded afresh (it reads the environment when loaded)."""
    spec = importlib.util.spec_from_file_location("devstack_under_test", ROOT / "scripts" / "devstack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_two_checkouts_get_two_stacks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TKE_CATALOG_DEVSTACK", raising=False)
    module = devstack(monkeypatch)
    assert module.DEVSTACK == module._default_stack()
    stacks = set()
    for clone in (tmp_path / "a" / "tke-catalog", tmp_path / "b" / "tke-catalog"):
        monkeypatch.setattr(module, "ROOT", clone)
        stacks.add(module._default_stack())
    assert len(stacks) == 2 and all(s.name.startswith("tke-catalog-") for s in stacks)


def test_a_named_stack_folder_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TKE_CATALOG_DEVSTACK", str(tmp_path / "mine"))
    assert devstack(monkeypatch).DEVSTACK == tmp_path / "mine"

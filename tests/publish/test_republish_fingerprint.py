"""An unchanged re-publish by the lock's fingerprints, against the real registry: one HEAD per chart,
no packaging, no archive read; anything else falls back to the full comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.publish.conftest import EPOCH, client_for, make_charts
from tests.support.registry import RegistryServer
from toolkit.actions.publish import (
    PublishAction,
    pending_charts,
    publish,
    read_lock,
    write_lock,
)
from toolkit.core.oci_reference import parse_oci_reference

pytestmark = [pytest.mark.registry]


def _first_publish(registry: RegistryServer, root: Path, path: str) -> tuple[list[Path], Path]:
    folders = make_charts(root)
    target = parse_oci_reference(registry.oci(path))
    client, _ = client_for(registry)
    charts = pending_charts(folders, epoch=EPOCH, created_epoch=EPOCH, lock=None, registry=target)
    assert all(c.locked is None for c in charts)
    result = publish(charts, registry=client, target=target, created_epoch=EPOCH)
    assert [c.action for c in result.charts] == [PublishAction.PUSHED] * 3
    lock = root / "catalog.lock"
    write_lock(lock, result)
    assert all(entry["fingerprint"].startswith("sha256:") for entry in json.loads(lock.read_text())["charts"])
    return folders, lock


def test_unchanged_republish_is_one_head_per_chart_and_no_packaging(registry: RegistryServer, tmp_path: Path) -> None:
    folders, lock = _first_publish(registry, tmp_path, "fingerprint")
    target = parse_oci_reference(registry.oci("fingerprint"))
    cache = tmp_path / "archives"
    storage_before = {p: p.stat().st_mtime_ns for p in registry.storage.rglob("*")}
    charts = pending_charts(folders, epoch=EPOCH, created_epoch=EPOCH, lock=read_lock(lock), registry=target,
                            cache=cache)
    client, counter = client_for(registry, counting=True)
    assert counter is not None
    result = publish(charts, registry=client, target=target, created_epoch=EPOCH, jobs=3)
    assert [(c.action, c.note) for c in result.charts] == [(PublishAction.SKIPPED, "unchanged")] * 3
    assert [c.digest for c in result.charts] == [e["digest"] for e in json.loads(lock.read_text())["charts"]]
    assert [m for m, path in counter.calls if path != "v2/"] == ["HEAD"] * 3  # beyond the one credential check
    assert not cache.exists()  # no archive built, none read from the cache
    assert {p: p.stat().st_mtime_ns for p in registry.storage.rglob("*")} == storage_before


def test_a_changed_folder_or_a_moved_tag_takes_the_full_path(registry: RegistryServer, tmp_path: Path) -> None:
    folders, lock = _first_publish(registry, tmp_path, "fingerprint-changed")
    target = parse_oci_reference(registry.oci("fingerprint-changed"))
    (folders[0] / "templates" / "extra.yaml").write_text("# same version, other content\n")
    charts = pending_charts(folders, epoch=EPOCH, created_epoch=EPOCH, lock=read_lock(lock), registry=target)
    assert [c.locked is None for c in charts] == [True, False, False]
    client, _ = client_for(registry)
    result = publish(charts, registry=client, target=target, created_epoch=EPOCH)
    assert [c.action for c in result.charts] == [PublishAction.FAILED, PublishAction.SKIPPED, PublishAction.SKIPPED]
    assert "already holds other content" in str(result.charts[0].error)

    # the lock says one thing, the registry another (a tag re-pushed by hand): compared, not trusted
    text = json.loads(lock.read_text())
    text["charts"][1]["digest"] = "sha256:" + "0" * 64
    lock.write_text(json.dumps(text))
    charts = pending_charts(folders[1:], epoch=EPOCH, created_epoch=EPOCH, lock=read_lock(lock), registry=target)
    (outcome, _) = publish(charts, registry=client, target=target, created_epoch=EPOCH).charts
    assert outcome.action is PublishAction.SKIPPED and outcome.digest != "sha256:" + "0" * 64


def test_another_epoch_or_registry_gets_no_fingerprint_match(registry: RegistryServer, tmp_path: Path) -> None:
    folders, lock = _first_publish(registry, tmp_path, "fingerprint-epoch")
    target = parse_oci_reference(registry.oci("fingerprint-epoch"))
    later = pending_charts(folders, epoch=EPOCH + 1, created_epoch=EPOCH + 1, lock=read_lock(lock), registry=target)
    assert all(c.locked is None for c in later)
    elsewhere = pending_charts(folders, epoch=EPOCH, created_epoch=EPOCH, lock=read_lock(lock),
                               registry=parse_oci_reference(registry.oci("somewhere-else")))
    assert all(c.locked is None for c in elsewhere)

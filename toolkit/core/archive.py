"""Reproducible chart archives, as pure functions over a chart's files.

Same files in, same bytes out: entries sorted with `Chart.yaml` first under `<chart name>/`, one fixed
mtime (from SOURCE_DATE_EPOCH, passed in), uid/gid 0 with empty owner names, modes normalized to 0644,
gzip without file name or timestamp at a fixed level. `content_digest` identifies a chart by its
uncompressed files, so "did this chart change?" does not depend on a zlib build.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Mapping

from toolkit.core.helmignore import BOM, parse_helmignore
from toolkit.errors import InputError

__all__ = [
    "DEFAULT_EPOCH",
    "build_chart_archive",
    "chart_files",
    "content_digest",
    "publish_fingerprint",
    "sha256_digest",
]

DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z, used when SOURCE_DATE_EPOCH is not set
_GZIP_LEVEL = 9


def sha256_digest(data: bytes) -> str:
    """`sha256:<hex>` of the bytes, the OCI digest form."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def chart_files(files: Mapping[str, bytes], *, refused: Mapping[str, InputError] | None = None, source: str = "",
                helm_major: int = 3) -> dict[str, bytes]:
    """The files helm would load: `.helmignore` applied in helm's walk order, a leading UTF-8 BOM
    dropped from each file. `refused` holds paths the folder cannot give (an irregular file, a link
    out of the folder; a folder's path ends in `/`): one `.helmignore` keeps raises its error, as helm
    refuses an irregular file only when it would load it. `helm_major`: see `helmignore`."""
    ignore = parse_helmignore(files.get(".helmignore", b""), f"{source or '.'}/.helmignore", helm_major=helm_major)
    refused = refused or {}
    kept = ignore.select([*files, *refused])
    for path in sorted(kept.intersection(refused)):
        raise refused[path]
    return {path: _without_bom(files[path]) for path in sorted(kept)}


def _without_bom(data: bytes) -> bytes:
    return data[len(BOM):] if data.startswith(BOM) else data


def _entry_order(path: str) -> tuple[int, str]:
    return (0 if path == "Chart.yaml" else 1, path)


def content_digest(files: Mapping[str, bytes]) -> str:
    """A digest over the chart's packaged files (paths and contents), independent of compression."""
    outer = hashlib.sha256()
    for path in sorted(files, key=_entry_order):
        outer.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return "sha256:" + outer.hexdigest()


def publish_fingerprint(content: str, epoch: int, created_epoch: int) -> str:
    """What a published chart's bytes depend on: its packaged files' `content_digest`, the archive's
    mtime and the manifest's creation time. Equal fingerprints give equal archives and manifests."""
    text = f"tke-catalog-chart/1\0{content}\0{epoch}\0{created_epoch}"
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def build_chart_archive(name: str, files: Mapping[str, bytes], *, mtime: int = DEFAULT_EPOCH) -> bytes:
    """A `.tgz` that helm installs, byte-identical for identical `files` and `mtime`."""
    entries = [(f"{name}/{path}", files[path]) for path in sorted(files, key=_entry_order)]
    raw = _ustar(entries, mtime)
    if raw is None:
        raw = _tar_with_tarfile(entries, mtime)
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=_GZIP_LEVEL, mtime=0) as gz:
        gz.write(raw)
    return out.getvalue()


def _tar_with_tarfile(entries: list[tuple[str, bytes]], mtime: int) -> bytes:
    """The archive through `tarfile` (PAX format): the reference, and the way for names `_ustar` leaves."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in entries:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = mtime
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


_BLOCK, _RECORD = 512, 20 * 512
_FIXED = b"0000644\x000000000\x000000000\x00"  # mode 0644, uid 0, gid 0


def _ustar(entries: list[tuple[str, bytes]], mtime: int) -> bytes | None:
    """The bytes `tarfile` writes for these entries in PAX format, built directly (about 20x faster),
    or None when an entry needs a PAX record (a non-ASCII name or one over 100 bytes): then use tarfile."""
    if not 0 <= mtime < 8 ** 11:
        return None
    stamp = b"%011o\x00" % mtime
    tail = b"ustar\x0000" + b"\x00" * (64 + 16 + 155)  # no owner names, no device numbers, no prefix
    out: list[bytes] = []
    offset = 0
    for path, data in entries:
        if len(path) > 100 or not path.isascii() or len(data) >= 8 ** 11:
            return None
        header = (path.encode().ljust(100, b"\x00") + _FIXED + b"%011o\x00" % len(data) + stamp + b" " * 8
                  + b"0" + b"\x00" * 100 + tail).ljust(_BLOCK, b"\x00")
        checksum = b"%06o\x00" % sum(header)
        out += (header[:148], checksum, header[155:], data, b"\x00" * (-len(data) % _BLOCK))
        offset += _BLOCK + len(data) + (-len(data) % _BLOCK)
    offset += 2 * _BLOCK
    out.append(b"\x00" * (2 * _BLOCK + (-offset % _RECORD)))
    return b"".join(out)

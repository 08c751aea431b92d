"""Reading a chart archive that came from a registry: untrusted input, so helm's size limits apply and
anything that could escape the chart's folder (absolute paths, `..`, links, devices) is refused.
Building archives is `toolkit.core.archive`'s job.
"""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
import zlib

from toolkit.errors import RegistryError

__all__ = ["MAX_CHART_BYTES", "MAX_FILE_BYTES", "read_chart_archive"]

MAX_CHART_BYTES = 100 * 1024 * 1024  # helm's MaxDecompressedChartSize
MAX_FILE_BYTES = 5 * 1024 * 1024  # helm's MaxDecompressedFileSize


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress (multi-member) gzip, refusing more than `limit` bytes out. Not tarfile's stream mode:
    Python 3.11 misreads the FEXTRA header that `helm package` writes."""
    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=31)
        out += inflater.decompress(rest, limit + 1 - len(out))
        if len(out) > limit:
            raise tarfile.TarError(f"decompresses to more than {limit} bytes")
        if not inflater.eof:
            raise tarfile.TarError("truncated gzip stream" if not inflater.unconsumed_tail else
                                   f"decompresses to more than {limit} bytes")
        rest = inflater.unused_data
    return bytes(out)


def read_chart_archive(data: bytes, where: str, *, max_total: int = MAX_CHART_BYTES,
                       max_file: int = MAX_FILE_BYTES) -> tuple[str, dict[str, bytes]]:
    """The chart name (the archive's top folder) and its files, read the way helm reads an archive
    but stricter: absolute paths, `..`, links, devices and files outside one top folder are refused;
    at most `max_total` bytes decompressed and `max_file` per file."""

    def bad(reason: str) -> RegistryError:
        return RegistryError(f"{where}: unsafe or invalid chart archive: {reason}",
                             hint="do not install this chart; re-publish it from its sources")

    files: dict[str, bytes] = {}
    top: str | None = None
    remaining = max_total
    try:
        raw = _gunzip(data, max_total + 16 * 1024 * 1024)  # room for tar headers and padding
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar:
                if member.isdir():
                    continue
                if not member.isfile():
                    raise bad(f"{member.name!r} is a link or special file")
                name = member.name
                if "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
                    raise bad(f"{name!r} is an absolute or Windows path")
                head, _, rest = name.partition("/")
                clean = posixpath.normpath(rest) if rest else ""
                if not head or head in (".", "..") or clean in ("", ".") or clean.startswith("..") or clean.startswith("/"):
                    raise bad(f"{name!r} is outside the chart folder")
                if top is None:
                    top = head
                elif head != top:
                    raise bad(f"{name!r} is not below {top}/")
                if member.size > max_file:
                    raise bad(f"{name!r} is larger than {max_file} bytes")
                if member.size > remaining:
                    raise bad(f"decompressed chart is larger than {max_total} bytes")
                handle = tar.extractfile(member)
                content = handle.read(member.size + 1) if handle else b""
                if len(content) != member.size:
                    raise bad(f"{name!r} is truncated")
                remaining -= len(content)
                if clean in files:
                    raise bad(f"{name!r} appears twice")
                files[clean] = content
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise bad(str(exc)) from exc
    if top is None or "Chart.yaml" not in files:
        raise bad("no Chart.yaml below the top folder")
    return top, files

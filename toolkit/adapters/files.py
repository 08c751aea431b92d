"""The file side of the shell: read bytes and text, list folders, write atomically.

Parsing lives in the pure core (`yamldoc`, `catalog`, `cluster`, ...); this module only touches disk,
and turns OS errors into InputErrors that name the path and the fix.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from toolkit.errors import InputError

__all__ = ["read_bytes", "read_text", "read_tree", "write_atomic"]


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or an InputError naming it."""
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file", hint="check the path") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a folder, expected a file", hint="name the file inside it") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror}", hint="check its permissions") from exc


def read_text(path: Path) -> str:
    """The file decoded as UTF-8, or an InputError naming it."""
    data = read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8") from exc


def read_tree(root: Path) -> dict[str, bytes]:
    """Every regular file below `root`, keyed by its POSIX path relative to `root` (links are not followed)."""
    if not root.is_dir():
        raise InputError(f"{root}: no such folder", hint="check the path")
    files: dict[str, bytes] = {}
    for folder, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            files[path.relative_to(root).as_posix()] = read_bytes(path)
    return files


def write_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None and path.exists():
            mode = path.stat().st_mode & 0o7777
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

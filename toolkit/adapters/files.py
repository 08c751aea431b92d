"""The file side of the shell: read bytes and text, list folders, write atomically.

Parsing lives in the pure core (`yamldoc`, `catalog`, `cluster`, ...); this module only touches disk,
and turns OS errors into InputErrors that name the path and the fix.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Callable
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


def read_tree(root: Path, *, on_link: Callable[[str], None] | None = None,
              refused: dict[str, InputError] | None = None) -> dict[str, bytes]:
    """Every file below `root`, keyed by its POSIX path relative to `root`, reading through symbolic
    links as helm does (files and folders; `on_link` hears of each, by default a warning on a terminal).
    Refused: a link out of `root` or a broken one (it would package what the chart folder does not
    hold), a link loop, an irregular file (a device, a FIFO: helm refuses it). Given `refused`, each
    refusal but a loop is recorded there by path instead (a folder's path ends in `/`), for the caller
    to raise only if `.helmignore` keeps the path, as helm does."""
    if not root.is_dir():
        raise InputError(f"{root}: no such folder", hint="check the path")
    real_root = root.resolve()
    tell = on_link if on_link is not None else _warn_on_terminal

    def refuse(rel: str, error: InputError) -> None:
        if refused is None:
            raise error
        refused[rel] = error

    files: dict[str, bytes] = {}
    seen: set[Path] = {real_root}
    for folder, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        for name in list(dirnames):
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = _link_target(path, real_root, root)
                if isinstance(target, InputError):
                    dirnames.remove(name)
                    refuse(rel + "/", target)
                    continue
                if target in seen:
                    raise InputError(f"{path}: a symbolic link loop (to {target})", hint="remove the link")
                seen.add(target)
                tell(f"{rel}: a symbolic link to {target}; its contents are packaged")
        prefix = os.path.relpath(folder, root).replace(os.sep, "/") + "/"
        prefix = "" if prefix == "./" else prefix
        for name in sorted(filenames):
            full = os.path.join(folder, name)
            rel = prefix + name
            if os.path.islink(full):
                target = _link_target(Path(full), real_root, root)
                if isinstance(target, InputError):
                    refuse(rel, target)
                    continue
                tell(f"{rel}: a symbolic link to {target}; its contents are packaged")
            try:
                regular = stat.S_ISREG(os.stat(full).st_mode)  # before opening: a FIFO would block
                if regular:
                    with open(full, "rb") as handle:  # the common case, without pathlib's per-file cost
                        files[rel] = handle.read()
                    continue
            except OSError:
                regular = True  # read_bytes below names the error
            if not regular:
                refuse(rel, InputError(f"{full}: cannot package irregular file {rel} (a device, FIFO or socket)",
                                       hint="remove it from the chart folder or list it in .helmignore "
                                            "(helm refuses it too)"))
                continue
            files[rel] = read_bytes(Path(full))
    return files


def _link_target(link: Path, real_root: Path, root: Path) -> Path | InputError:
    """The resolved target of `link` when it exists inside the chart folder, else the refusal."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        return InputError(f"{link}: a broken symbolic link ({exc.__class__.__name__})",
                          hint="fix or remove the link, or list it in .helmignore")
    if target != real_root and real_root not in target.parents:
        return InputError(f"{link}: a symbolic link to {target}, outside the chart folder {root}",
                          hint="copy what it points at into the chart, or point the link inside the chart")
    return target


def _warn_on_terminal(message: str) -> None:
    if sys.stderr.isatty():
        print(f"warning: {message}", file=sys.stderr)


def write_atomic(path: Path, data: bytes, *, mode: int | None = None, mtime: int | None = None) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename; `mtime` sets
    the file's modification time (a chart archive's, which `helm push` records)."""
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
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

"""Cleans up on Exception only: Ctrl-C (KeyboardInterrupt) leaves the temp file behind.

02.2 — Atomic writes that never leave a half-written file (reference solution)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Replaces the file at ``path`` with ``data`` atomically."""
    target = Path(path)
    # The temp file must live in the same directory: os.replace is a rename, atomic within one
    # file system; across file systems it fails with OSError EXDEV (it never falls back to a copy).
    fd, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()  # Python's buffer -> the operating system
            os.fsync(handle.fileno())  # the operating system's cache -> the disk
        _keep_mode(target, temp_name)
        os.replace(temp_name, target)  # readers see the old file or the new one, never a mix
    except Exception:
        # Whatever went wrong (even Ctrl-C), the old file is untouched: drop the temp file.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_directory(target.parent)


def atomic_write_text(path: Path | str, text: str, *, encoding: str = "utf-8") -> None:
    """Replaces the text file at ``path`` with ``text`` atomically."""
    # Encoding first means an unencodable character fails before any file is touched.
    atomic_write_bytes(path, text.encode(encoding))


def _keep_mode(target: Path, temp_name: str) -> None:
    """mkstemp creates 0600 files; a replaced file keeps the permissions it had."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask  # what open() would have given a new file
    os.chmod(temp_name, mode)


def _fsync_directory(directory: Path) -> None:
    """Makes the rename itself durable (POSIX); directories cannot be opened on Windows."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""Writing files so that a crash, a full disk or Ctrl-C never leaves half of one behind."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    """Replaces ``path`` with ``text`` in one step: readers see the old file or the new one.

    The new content goes to a temporary file in the same folder (``os.replace`` is only atomic
    within one file system), is flushed to disk, keeps the old file's permissions, and then
    takes the old file's place. On any error the temporary file is removed and the original
    is untouched.
    """
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    # A file without its owner's write bit was made read-only on purpose: respect that even
    # for root, whom the operating system would let through.
    if path.exists() and (not mode & stat.S_IWUSR or not os.access(path, os.W_OK)):
        raise PermissionError(f"{path} is read-only")
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as temp:
            temp.write(text)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise

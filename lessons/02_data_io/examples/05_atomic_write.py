"""A crash in the middle of a write: plain write_text loses the file, an atomic write does not.
And why the temp file must be in the target's own folder: os.replace does not cross file systems.

Run: uv run python lessons/02_data_io/examples/05_atomic_write.py
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path


class Crash(Exception):
    """Stands in for a crash, a full disk or a power cut."""


def chunks_that_crash() -> Iterable[str]:
    yield '{"orders": [1, 2, 3'  # the first half of the new content...
    raise Crash("the process died halfway through the write")


def plain_write(path: Path, chunks: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8") as handle:  # "w" truncates the old file right here
        for chunk in chunks:
            handle.write(chunk)


def atomic_write(path: Path, chunks: Iterable[str]) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()  # Python's buffer -> the operating system
            os.fsync(handle.fileno())  # the operating system's cache -> the disk
        with contextlib.suppress(FileNotFoundError):  # mkstemp made it 0600: keep the old mode
            os.chmod(temp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(temp, path)  # the only moment the real file changes: all at once
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    if os.name == "posix":  # the rename is a change to the folder: make that durable too
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def replace_across_file_systems(folder: Path) -> None:
    """os.replace is a rename: it cannot move a file to another file system."""
    other = Path("/dev/shm")  # memory-backed on Linux: usually another file system
    if not other.is_dir() or os.stat(other).st_dev == os.stat(folder).st_dev:
        print("os.replace across file systems: no second file system to try here")
        return
    fd, temp = tempfile.mkstemp(dir=other, suffix=".tmp")
    os.close(fd)
    try:
        os.replace(temp, folder / "moved.json")
    except OSError as error:
        print(f"os.replace from {other} fails with {errno.errorcode[error.errno]}: {error}")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def main() -> None:
    old = '{"orders": [1, 2]}'
    with tempfile.TemporaryDirectory(prefix="journey-02-") as tmp:
        for writer in (plain_write, atomic_write):
            path = Path(tmp) / f"{writer.__name__}.json"
            path.write_text(old, encoding="utf-8")
            try:
                writer(path, chunks_that_crash())
            except Crash as error:
                print(f"{writer.__name__:>12}: {error}")
            print(f"{'':>12}  file now holds {path.read_text(encoding='utf-8')!r}")
        print("files left in the folder:", sorted(p.name for p in Path(tmp).iterdir()))
        print("-> plain_write left a truncated, invalid JSON file; atomic_write kept the old one")
        replace_across_file_systems(Path(tmp))
        print("-> so the temp file goes in the target's own folder, not in a shared temp folder")


if __name__ == "__main__":
    main()

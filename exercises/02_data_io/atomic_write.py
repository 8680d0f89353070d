"""02.2 — Atomic writes that never leave a half-written file.

``path.write_text(text)`` truncates the file first and then writes: if the program crashes, the
disk fills up, or the power goes in between, the file is left empty or cut in half, and the
old content is gone. An *atomic* write gets the new content safely onto the disk under another
name, then swaps it in with one ``os.replace``: every reader sees either the whole old file or
the whole new one, never a mix.

The recipe:

1. create a temp file **in the same directory** as the target (``tempfile.mkstemp(dir=...)``):
   ``os.replace`` renames within one file system only (to another one it fails with
   ``OSError`` EXDEV), and a rename is what makes the swap atomic;
2. write the data, ``flush()`` (Python's buffer -> the OS) and ``os.fsync(fd)`` (the OS cache
   -> the disk);
3. give the temp file the target's permission bits (``mkstemp`` makes it ``0o600``);
4. ``os.replace(temp, target)``;
5. ``fsync`` the directory: the rename is a change to the directory, and until the directory
   is on the disk a power cut can bring back the old name;
6. if anything fails before the replace, delete the temp file and re-raise: the target is
   untouched and no ``.tmp`` litter is left behind.
"""

from __future__ import annotations

from pathlib import Path

TEMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Replaces the file at ``path`` with ``data`` atomically (or creates it).

    - The temp file is created in ``path``'s directory, named ``.<name>.<random>.tmp``
      (``tempfile.mkstemp(dir=..., prefix=f".{name}.", suffix=TEMP_SUFFIX)``).
    - Flush and ``os.fsync`` the temp file *before* ``os.replace``.
    - On any failure (writing, fsync, replace, even KeyboardInterrupt: catch BaseException),
      remove the temp file and re-raise the original exception. The old file stays as it was.
    - mkstemp creates files with mode 0o600. If the target already exists, give the new
      file the target's permission bits (``stat.S_IMODE(os.stat(path).st_mode)``); a new
      file gets ``0o666`` minus the umask, as ``open()`` would give it.
    - The directory must exist: a missing one raises FileNotFoundError (do not create it).
    - After the replace, fsync the directory so that the rename itself is durable (POSIX):
      ``fd = os.open(directory, os.O_RDONLY)``, ``os.fsync(fd)``, and ``os.close(fd)`` in a
      ``finally``. (Windows cannot open a directory: skip this step when ``os.name != "posix"``.)
    """
    raise NotImplementedError("02.2: temp file in the same dir, fsync, os.replace, clean up")


def atomic_write_text(path: Path | str, text: str, *, encoding: str = "utf-8") -> None:
    """Replaces the text file at ``path`` with ``text`` atomically.

    If ``text`` cannot be encoded (UnicodeEncodeError), the old file must stay intact and no
    temp file may be left behind.
    """
    raise NotImplementedError("02.2: encode the text and write it atomically")

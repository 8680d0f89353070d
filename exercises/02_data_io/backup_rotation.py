"""02.4 — Backup and rotation of a folder with shutil.

``backup_folder`` zips a folder into a backups folder under a timestamped name, then deletes
the oldest backups so that only the newest ``keep`` remain::

    backups/
        photos-20250101T090000Z.zip
        photos-20250102T090000Z.zip     <- names sort in time order
        photos-20250103T090000Z.zip

The current time comes from a ``clock`` argument (a function returning an aware datetime), so
a test can pass a fake clock instead of sleeping between backups.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
ARCHIVE_FORMAT = "zip"
ARCHIVE_SUFFIX = ".zip"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def backup_name(source_name: str, when: datetime) -> str:
    """``photos`` at 2025-01-02 03:04:05 UTC -> ``photos-20250102T030405Z.zip``.

    ``when`` is converted to UTC first (so 04:04:05+01:00 gives the same name). A naive
    datetime (no tzinfo) has no fixed meaning: ValueError whose message says the time must be
    timezone-"aware".
    """
    raise NotImplementedError("02.4: format the UTC timestamp into the backup's name")


def list_backups(backups: Path, source_name: str) -> list[Path]:
    """The backups of ``source_name`` in ``backups``, oldest first.

    Only files named exactly ``<source_name>-<STAMP>.zip`` count: other files, and backups of
    another source (``photos-raw-...zip`` is not a backup of ``photos``), are ignored.
    A missing ``backups`` folder has no backups: return ``[]``.
    """
    raise NotImplementedError("02.4: find this source's backups, oldest first")


def rotate(backups: Path, source_name: str, keep: int) -> list[Path]:
    """Deletes all but the newest ``keep`` backups of ``source_name``; returns what it deleted
    (oldest first). ``keep`` below 1 raises ValueError. Never touches other files."""
    raise NotImplementedError("02.4: delete the oldest backups beyond keep")


def backup_folder(source: Path, backups: Path, *, keep: int, clock: Clock = utc_now) -> Path:
    """Archives ``source`` into ``backups`` under a timestamped name, then rotates.

    - ``keep`` below 1: ValueError. ``source`` not a directory: NotADirectoryError.
    - ``backups`` inside ``source`` (or the same folder): ValueError, since the archive
      would contain the backups themselves. Compare resolved paths.
    - ``backups`` is created if missing (with parents).
    - The archive (``shutil.make_archive(base, "zip", root_dir=source)``) holds the folder's
      *contents* with relative paths: ``a.txt``, ``sub/b.txt``.
    - If a backup with the same name exists already, raise FileExistsError: never overwrite.
    - Make the archive under a temporary name starting with ``.`` and ``os.replace`` it to its
      final name, so a half-written archive never looks like a backup.
    - Then ``rotate(backups, source.name, keep)``. Returns the new archive's path.
    """
    raise NotImplementedError("02.4: make a timestamped zip with shutil, then rotate")


def restore(archive: Path, target: Path) -> None:
    """Unpacks a backup into the folder ``target``, which must not exist yet
    (FileExistsError otherwise): restoring never mixes with or overwrites existing files."""
    raise NotImplementedError("02.4: unpack the archive into a new folder")

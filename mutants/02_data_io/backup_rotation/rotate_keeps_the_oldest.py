"""Deletes the newest backups and keeps the oldest.

02.4 — Backup and rotation of a folder with shutil (reference solution)."""

from __future__ import annotations

import os
import re
import shutil
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
    """``photos`` at 2025-01-02 03:04:05 UTC -> ``photos-20250102T030405Z.zip``."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("backup times must be timezone-aware (a naive time has no fixed meaning)")
    # Fixed-width UTC stamps sort by name in time order, whatever the machine's time zone.
    return f"{source_name}-{when.astimezone(UTC).strftime(STAMP_FORMAT)}{ARCHIVE_SUFFIX}"


def _backup_pattern(source_name: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(source_name)}-(\d{{8}}T\d{{6}}Z){re.escape(ARCHIVE_SUFFIX)}")


def list_backups(backups: Path, source_name: str) -> list[Path]:
    """The backups of ``source_name`` in ``backups``, oldest first."""
    if not backups.is_dir():
        return []
    pattern = _backup_pattern(source_name)
    found = [
        (match[1], path)
        for path in backups.iterdir()
        if path.is_file() and (match := pattern.fullmatch(path.name))
    ]
    return [path for _, path in sorted(found)]


def rotate(backups: Path, source_name: str, keep: int) -> list[Path]:
    """Deletes all but the newest ``keep`` backups of ``source_name``; returns what it deleted."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1 (keeping {keep} would delete every backup)")
    existing = list_backups(backups, source_name)
    doomed = existing[keep:]
    for path in doomed:
        path.unlink()
    return doomed


def backup_folder(source: Path, backups: Path, *, keep: int, clock: Clock = utc_now) -> Path:
    """Archives ``source`` into ``backups`` under a timestamped name, then rotates."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    if not source.is_dir():
        raise NotADirectoryError(f"{source} is not a directory")
    source_abs, backups_abs = source.resolve(), backups.resolve()
    if backups_abs == source_abs or backups_abs.is_relative_to(source_abs):
        raise ValueError("the backups folder must not be inside the folder it backs up")

    backups.mkdir(parents=True, exist_ok=True)
    final = backups / backup_name(source.name, clock())
    if final.exists():
        raise FileExistsError(f"{final} already exists; a backup is never overwritten")

    # Build under a temporary name and rename at the end: an archive cut short by a crash
    # must never look like a finished backup to list_backups or rotate.
    temp_base = backups / f".{final.name}.partial"
    made = Path(shutil.make_archive(str(temp_base), ARCHIVE_FORMAT, root_dir=source))
    os.replace(made, final)
    rotate(backups, source.name, keep)
    return final


def restore(archive: Path, target: Path) -> None:
    """Unpacks a backup into ``target``, which must not exist yet."""
    if target.exists():
        raise FileExistsError(f"{target} exists; restore into a new folder")
    shutil.unpack_archive(archive, target)

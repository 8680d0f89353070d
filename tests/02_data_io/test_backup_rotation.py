"""02.4 — Backup and rotation of a folder with shutil."""

from __future__ import annotations

import os
import zipfile
from datetime import UTC, datetime, timedelta, timezone

import pytest

from journey.targets import load

backup_rotation = load(__file__, "backup_rotation")

START = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


class FakeClock:
    """A clock that moves one hour each time it is read: no sleeping in tests."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        current = self.now
        self.now += timedelta(hours=1)
        return current


def make_source(tmp_path):
    source = tmp_path / "photos"
    (source / "2024").mkdir(parents=True)
    (source / "a.txt").write_text("alpha", encoding="utf-8")
    (source / "2024" / "b.txt").write_text("beta", encoding="utf-8")
    return source


def test_backup_name_is_a_utc_timestamp():
    assert backup_rotation.backup_name("photos", START) == "photos-20250102T030405Z.zip"
    plus_two = START.astimezone(timezone(timedelta(hours=2)))
    assert backup_rotation.backup_name("photos", plus_two) == "photos-20250102T030405Z.zip", (
        "the same instant in another time zone gives the same name: convert to UTC"
    )


def test_backup_name_refuses_naive_times():
    with pytest.raises(ValueError, match="aware"):
        backup_rotation.backup_name("photos", datetime(2025, 1, 2, 3, 4, 5))


def test_backup_holds_the_folder_contents_with_relative_paths(tmp_path):
    source = make_source(tmp_path)
    backups = tmp_path / "backups" / "nested"
    made = backup_rotation.backup_folder(source, backups, keep=3, clock=FakeClock())
    assert made == backups / "photos-20250102T030405Z.zip", "named after the folder and the time"
    with zipfile.ZipFile(made) as archive:
        names = {n for n in archive.namelist() if not n.endswith("/")}
        assert names == {"a.txt", "2024/b.txt"}, "paths inside the archive are relative"
        assert archive.read("2024/b.txt") == b"beta"
    assert [p.name for p in backups.iterdir()] == [made.name], "no temporary archive is left"


def test_only_the_newest_backups_are_kept(tmp_path):
    source = make_source(tmp_path)
    backups = tmp_path / "backups"
    clock = FakeClock()
    made = [backup_rotation.backup_folder(source, backups, keep=3, clock=clock) for _ in range(5)]
    assert backup_rotation.list_backups(backups, "photos") == made[2:], (
        "after five backups with keep=3, the three newest remain, oldest first"
    )
    assert sorted(p.name for p in backups.iterdir()) == [p.name for p in made[2:]]


def test_rotation_never_touches_other_files(tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    for name in [
        "photos-20250101T000000Z.zip",
        "photos-20250103T000000Z.zip",
        "photos-20250102T000000Z.zip",
        "photos-raw-20240101T000000Z.zip",  # another source's backup
        "README.txt",
        "photos-20250101T000000Z.zip.bak",
    ]:
        (backups / name).write_bytes(b"")
    listed = [p.name for p in backup_rotation.list_backups(backups, "photos")]
    assert listed == [
        "photos-20250101T000000Z.zip",
        "photos-20250102T000000Z.zip",
        "photos-20250103T000000Z.zip",
    ], "only this source's backups, oldest first"
    removed = backup_rotation.rotate(backups, "photos", keep=1)
    assert [p.name for p in removed] == listed[:2], "rotate returns what it deleted"
    assert sorted(p.name for p in backups.iterdir()) == [
        "README.txt",
        "photos-20250101T000000Z.zip.bak",
        "photos-20250103T000000Z.zip",
        "photos-raw-20240101T000000Z.zip",
    ]


def test_missing_backups_folder_has_no_backups(tmp_path):
    assert backup_rotation.list_backups(tmp_path / "none", "photos") == []


def test_keep_one_is_the_smallest_rotation(tmp_path):
    source = make_source(tmp_path)
    backups = tmp_path / "backups"
    clock = FakeClock()
    backup_rotation.backup_folder(source, backups, keep=1, clock=clock)
    newest = backup_rotation.backup_folder(source, backups, keep=1, clock=clock)
    assert backup_rotation.list_backups(backups, "photos") == [newest], (
        "keep=1 is valid: only the newest backup remains"
    )


@pytest.mark.parametrize("keep", [0, -1])
def test_keep_must_be_positive(tmp_path, keep):
    source = make_source(tmp_path)
    with pytest.raises(ValueError, match="keep"):
        backup_rotation.backup_folder(source, tmp_path / "b", keep=keep, clock=FakeClock())
    with pytest.raises(ValueError, match="keep"):
        backup_rotation.rotate(tmp_path / "b", "photos", keep=keep)


def test_backups_inside_the_source_are_refused(tmp_path):
    source = make_source(tmp_path)
    with pytest.raises(ValueError, match="inside"):
        backup_rotation.backup_folder(source, source / "backups", keep=2, clock=FakeClock())
    assert not (source / "backups").exists(), "nothing is created when the call is refused"


def test_a_sibling_folder_with_a_similar_name_is_fine(tmp_path):
    source = make_source(tmp_path)
    backups = tmp_path / "photos-backups"  # starts with "photos" but is not inside it
    made = backup_rotation.backup_folder(source, backups, keep=2, clock=FakeClock())
    assert made.parent == backups, (
        "compare paths, not strings: photos-backups is beside photos, not inside it"
    )


def test_the_archive_is_built_under_a_hidden_name_then_renamed(tmp_path, monkeypatch):
    source = make_source(tmp_path)
    backups = tmp_path / "backups"
    renames: list[tuple[str, str]] = []
    real_replace = os.replace

    def recording_replace(src, dst):
        renames.append((os.path.basename(os.fspath(src)), os.path.basename(os.fspath(dst))))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    made = backup_rotation.backup_folder(source, backups, keep=2, clock=FakeClock())
    assert [dst for _, dst in renames] == [made.name], (
        "os.replace the finished archive to its final name (once)"
    )
    assert renames[0][0].startswith("."), (
        "build the archive under a temporary name starting with '.': "
        f"a half-written {made.name} must never look like a finished backup"
    )
    assert [p.name for p in backups.iterdir()] == [made.name], "only the final archive remains"


def test_source_must_be_a_directory(tmp_path):
    with pytest.raises(NotADirectoryError):
        backup_rotation.backup_folder(tmp_path / "nope", tmp_path / "b", keep=2)


def test_an_existing_backup_is_never_overwritten(tmp_path):
    source = make_source(tmp_path)
    backups = tmp_path / "backups"
    frozen = lambda: START  # noqa: E731 - a clock that does not move
    first = backup_rotation.backup_folder(source, backups, keep=5, clock=frozen)
    before = first.read_bytes()
    with pytest.raises(FileExistsError):
        backup_rotation.backup_folder(source, backups, keep=5, clock=frozen)
    assert first.read_bytes() == before


def test_restore_round_trip(tmp_path):
    source = make_source(tmp_path)
    made = backup_rotation.backup_folder(source, tmp_path / "backups", keep=2, clock=FakeClock())
    target = tmp_path / "restored"
    backup_rotation.restore(made, target)
    assert (target / "a.txt").read_text(encoding="utf-8") == "alpha"
    assert (target / "2024" / "b.txt").read_text(encoding="utf-8") == "beta"
    with pytest.raises(FileExistsError):
        backup_rotation.restore(made, target)

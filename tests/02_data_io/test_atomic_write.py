"""02.2 — Atomic writes that never leave a half-written file."""

from __future__ import annotations

import os
import stat

import pytest

from journey.targets import load

atomic_write = load(__file__, "atomic_write")

OLD = "the old content, which must survive any failure\n"


def make_target(tmp_path):
    target = tmp_path / "settings.json"
    target.write_text(OLD, encoding="utf-8")
    return target


def names_in(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_writes_a_new_file(tmp_path):
    target = tmp_path / "new.txt"
    atomic_write.atomic_write_text(target, "héllo\n")
    assert target.read_text(encoding="utf-8") == "héllo\n"
    assert names_in(tmp_path) == ["new.txt"], "no temp file is left after a successful write"


def test_replaces_an_existing_file_and_accepts_str_paths(tmp_path):
    target = make_target(tmp_path)
    atomic_write.atomic_write_text(str(target), "new")
    assert target.read_text(encoding="utf-8") == "new", "the file holds exactly the new text"
    atomic_write.atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert names_in(tmp_path) == ["settings.json"]


def test_encoding_respected(tmp_path):
    target = tmp_path / "latin.txt"
    atomic_write.atomic_write_text(target, "é", encoding="latin-1")
    assert target.read_bytes() == b"\xe9"


def test_temp_file_is_in_the_same_directory_and_fsynced_before_replace(tmp_path, monkeypatch):
    target = make_target(tmp_path)
    calls: list[tuple[str, object]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append(("fsync", fd))
        return real_fsync(fd)

    def replace(src, dst):
        calls.append(("replace", (os.fspath(src), os.fspath(dst))))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    atomic_write.atomic_write_text(target, "new")

    kinds = [kind for kind, _ in calls]
    assert "replace" in kinds, "the new content is swapped in with os.replace"
    assert "fsync" in kinds[: kinds.index("replace")], (
        "os.fsync the temp file before os.replace, or a power cut can leave an empty file"
    )
    src, dst = next(arg for kind, arg in calls if kind == "replace")
    assert os.path.dirname(src) == str(tmp_path), (
        "the temp file must be in the target's directory: os.replace is atomic only there"
    )
    assert os.path.abspath(dst) == str(target)


@pytest.mark.skipif(os.name != "posix", reason="directories are fsynced on POSIX only")
def test_the_directory_is_fsynced_after_the_replace(tmp_path, monkeypatch):
    target = make_target(tmp_path)
    directory_inode = os.stat(tmp_path).st_ino
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        info = os.fstat(fd)
        is_our_directory = stat.S_ISDIR(info.st_mode) and info.st_ino == directory_inode
        calls.append("fsync directory" if is_our_directory else "fsync file")
        return real_fsync(fd)

    def replace(src, dst):
        calls.append("replace")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    atomic_write.atomic_write_text(target, "new")
    assert "fsync directory" in calls, (
        "fsync the target's directory too: the rename is a change to the directory, and a "
        "power cut before the directory reaches the disk can bring the old file back"
    )
    assert calls.index("fsync directory") > calls.index("replace"), (
        f"the directory is fsynced after os.replace, when it holds the new name: got {calls}"
    )


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_no_file_descriptor_is_left_open(tmp_path):
    target = make_target(tmp_path)
    atomic_write.atomic_write_text(target, "warm-up")  # imports and caches settle first
    before = set(os.listdir("/proc/self/fd"))
    for round_number in range(3):
        atomic_write.atomic_write_text(target, f"round {round_number}")
    leaked = set(os.listdir("/proc/self/fd")) - before
    assert not leaked, (
        f"{len(leaked)} file descriptor(s) left open after three writes: close the temp file "
        "(os.fdopen's with block does) and the directory's descriptor (os.close in a finally)"
    )


def test_failed_replace_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = make_target(tmp_path)

    def broken_replace(src, dst):
        raise OSError("simulated crash just before the rename")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated crash"):
        atomic_write.atomic_write_text(target, "new content " * 1000)
    assert target.read_text(encoding="utf-8") == OLD, "the old file must be intact"
    assert names_in(tmp_path) == ["settings.json"], "the temp file must be removed on failure"


def test_disk_full_during_fsync_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = make_target(tmp_path)

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        atomic_write.atomic_write_bytes(target, b"x" * 100_000)
    assert target.read_text(encoding="utf-8") == OLD, "the old file must be intact"
    assert names_in(tmp_path) == ["settings.json"], "the temp file must be removed on failure"


def test_interrupt_is_cleaned_up_too(tmp_path, monkeypatch):
    target = make_target(tmp_path)

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write.atomic_write_text(target, "new")
    assert names_in(tmp_path) == ["settings.json"], (
        "Ctrl-C is not an Exception: clean up on BaseException and re-raise"
    )


def test_unencodable_text_keeps_old_file(tmp_path):
    target = make_target(tmp_path)
    with pytest.raises(UnicodeEncodeError):
        atomic_write.atomic_write_text(target, "plain text, then " + "é", encoding="ascii")
    assert target.read_text(encoding="utf-8") == OLD, "a failed write must not truncate the file"
    assert names_in(tmp_path) == ["settings.json"]


def test_missing_directory_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write.atomic_write_text(tmp_path / "no" / "such" / "dir.txt", "x")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_existing_permissions_are_kept(tmp_path):
    target = make_target(tmp_path)
    target.chmod(0o640)
    atomic_write.atomic_write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640, (
        "mkstemp makes 0600 files: give the new file the permissions of the file it replaces"
    )
    assert target.read_text(encoding="utf-8") == "new"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_new_file_gets_normal_permissions(tmp_path):
    target = tmp_path / "fresh.txt"
    umask = os.umask(0o022)
    try:
        atomic_write.atomic_write_text(target, "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644, (
        "a new file gets 0o666 minus the umask, as open() would create it, not mkstemp's 0600"
    )

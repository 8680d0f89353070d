"""capstone/pieces.py: the shop imports each lesson's piece through it, the reference by default
and the learner's own when ``CAPSTONE_MINE`` lists it. The learner's side runs in a private copy
of the lab, never on the real exercises/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from capstone import pieces
from journey import stubs
from journey.capstone_cli import PieceChoice, pieces_table
from journey.catalog import ROOT, find_exercise, find_lesson
from journey.sandbox import copy_lab

LIMITS = pieces.PIECES["gateway_limits"]


def test_each_piece_is_its_lessons_exercise_and_its_caller_exists() -> None:
    for piece in pieces.PIECES.values():
        exercise = find_exercise(piece.exercise)
        assert (exercise.lesson_folder, exercise.module) == (piece.lesson, piece.module)
        lesson = find_lesson(piece.lesson)
        # the lesson's last exercise, or (lesson 07, which has two) the one before it; or an
        # exercise that the lesson's piece runs on (06.6 runs on 06.1's and 06.3's classes)
        last = lesson.exercises[-2:]
        runs_on = any(
            find_exercise(p.exercise) in last
            for p in pieces.PIECES.values()
            if p.lesson == piece.lesson
        )
        assert exercise in last or runs_on, f"{piece.exercise} is not a capstone piece"
        assert (ROOT / piece.used_by).is_file(), piece.used_by


def test_the_reference_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pieces.MINE_ENV, raising=False)
    module = pieces.piece("gateway_limits")
    assert Path(str(module.__file__)) == ROOT / "solutions" / LIMITS.lesson / "gateway_limits.py"
    assert [(p.exercise, whose) for p, whose in pieces.which()] == [
        (p.exercise, "reference") for p in pieces.PIECES.values()
    ]


def test_a_name_that_is_no_piece_is_refused_with_the_known_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(pieces.PieceError, match=r"no capstone piece 'limiter'.*gateway_limits"):
        pieces.piece("limiter")
    monkeypatch.setenv(pieces.MINE_ENV, "08.9, 99.1")
    with pytest.raises(pieces.PieceError, match=r"CAPSTONE_MINE names 99\.1: not a capstone"):
        pieces.which()


def _lab_with_pieces(folder: Path) -> Path:
    """A copy of the lab with the capstone's door to it (copy_lab leaves the capstone out) and
    every piece's exercise as shipped, whatever this lab's learner has done with it."""
    lab = copy_lab(folder)
    (lab / "capstone").mkdir(exist_ok=True)
    for name in ("__init__.py", "pieces.py"):
        shutil.copy2(ROOT / "capstone" / name, lab / "capstone" / name)
    for piece in pieces.PIECES.values():
        shipped = stubs.shipped_files(find_exercise(piece.exercise)) or {}
        for name, text in shipped.items():
            (lab / "exercises" / piece.lesson / name).write_text(text, encoding="utf-8")
    return lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _lab_with_pieces(tmp_path_factory.mktemp("pieces") / "lab")


def _python_in(folder: Path, script: str, **env: str) -> Any:
    """Runs ``script`` in a fresh interpreter whose current folder is ``folder`` (its own
    ``journey`` and ``capstone`` come first on the path) and returns the JSON it printed last."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder), **env},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _in_lab(lab: Path, mine: str) -> dict[str, str]:
    """Imports gateway_limits in a fresh interpreter inside ``lab`` (so the lab's own journey
    and exercises are the ones found) and tells which file came and whose it is, or the error."""
    script = (
        "import json\n"
        "from capstone import pieces\n"
        "try:\n"
        "    module = pieces.piece('gateway_limits')\n"
        "    whose = pieces.whose('gateway_limits')\n"
        "    print(json.dumps({'file': module.__file__, 'whose': whose}))\n"
        "except pieces.PieceError as error:\n"
        "    print(json.dumps({'error': str(error)}))\n"
    )
    answer: dict[str, str] = _python_in(lab, script, **{pieces.MINE_ENV: mine})
    return answer


def test_the_learners_file_when_its_exercise_is_listed(lab: Path) -> None:
    mine = lab / "exercises" / LIMITS.lesson / "gateway_limits.py"
    assert _in_lab(lab, mine="08.9") == {"file": str(mine), "whose": "yours"}
    reference = lab / "solutions" / LIMITS.lesson / "gateway_limits.py"
    assert _in_lab(lab, mine="") == {"file": str(reference), "whose": "reference"}


def test_a_chosen_piece_that_cannot_be_imported_names_its_exercise_and_line(lab: Path) -> None:
    mine = lab / "exercises" / LIMITS.lesson / "gateway_limits.py"
    kept = mine.read_text()
    try:
        mine.write_text('"""a piece in progress"""\n\nraise RuntimeError("half done")\n')
        error = _in_lab(lab, mine="08.9")["error"]
    finally:
        mine.write_text(kept)
    assert error.startswith("capstone piece 08.9 (gateway_limits): your version cannot be")
    assert "exercises/08_security/gateway_limits.py, line 3: RuntimeError: half done" in error


def _inherited() -> dict[str, str]:
    """This environment (where the backing services are) without what a child must choose."""
    chosen = ("JOURNEY_TARGET", "HOME", pieces.MINE_ENV)
    return {k: v for k, v in os.environ.items() if k not in chosen}


def _check_pieces(lab: Path) -> list[dict[str, object]]:
    """``journey capstone up --mine``'s choice, made by the lab's own journey inside ``lab``."""
    script = (
        "import json\n"
        "from journey.capstone_cli import check_pieces\n"
        "print(json.dumps([c.__dict__ | {'whose': c.whose} for c in check_pieces()]))\n"
    )
    inherited = _inherited()
    choices: list[dict[str, object]] = _python_in(lab, script, **inherited)
    return choices


def test_mine_runs_a_passing_piece_as_yours_and_the_reference_for_the_rest(
    tmp_path: Path,
) -> None:
    lab = _lab_with_pieces(tmp_path / "lab")
    solved, *others = pieces.PIECES.values()
    shutil.copy2(
        lab / "solutions" / solved.lesson / f"{solved.module}.py",
        lab / "exercises" / solved.lesson / f"{solved.module}.py",
    )
    choices = {c["exercise"]: c["whose"] for c in _check_pieces(lab)}
    assert choices == {
        solved.exercise: "yours",
        **{p.exercise: f"reference (your {p.exercise} is not started)" for p in others},
    }


@pytest.mark.redis  # lesson 08's piece is checked against Redis
@pytest.mark.parametrize(
    ("started", "why"),
    [
        ("\n# started, not done\n", r"your 08\.9: 0/\d+ tests pass"),
        ("\ndef half_written(:\n", r"your 08\.9 cannot be imported: .*SyntaxError.*"),
    ],
    ids=["failing", "broken"],
)
def test_mine_runs_the_reference_for_a_started_piece_that_does_not_pass(
    tmp_path: Path, started: str, why: str
) -> None:
    lab = _lab_with_pieces(tmp_path / "lab")
    stub = lab / "exercises" / LIMITS.lesson / "gateway_limits.py"
    stub.write_text(stub.read_text() + started)
    (choice,) = [c for c in _check_pieces(lab) if c["exercise"] == LIMITS.exercise]
    assert choice["yours"] is False
    assert re.fullmatch(rf"reference \({why}\)", str(choice["whose"])), choice["whose"]


def test_the_table_lines_up_whose_piece_runs() -> None:
    choices = [
        PieceChoice("01.9", "service_settings", yours=True),
        PieceChoice("08.9", "gateway_limits", yours=False, why_not="your 08.9 is not started"),
    ]
    assert pieces_table(choices) == [
        "  01.9  service_settings  yours",
        "  08.9  gateway_limits    reference (your 08.9 is not started)",
    ]


def test_the_image_holds_every_reference_piece_and_the_loader(tmp_path: Path) -> None:
    """What capstone/Dockerfile copies into /app is enough to import every piece the shop runs
    (the pieces that check it, such as the deployment checker, stay out of the image)."""
    app = tmp_path / "app"
    app.mkdir()
    for line in (ROOT / "capstone" / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] != ["COPY"] or any(w.startswith("--") for w in words):
            continue
        *sources, destination = words[1:]
        for source in sources:  # a folder's files go into the destination, as Docker does
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, app / destination, dirs_exist_ok=True)
            else:
                (app / destination).mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / source, app / destination)
    script = (
        "import json, journey\n"
        "from capstone import pieces\n"
        "shop = [p.module for p in pieces.PIECES.values() if p.in_the_shop]\n"
        "loaded = [pieces.piece(name).__file__ for name in shop]\n"
        "print(json.dumps([pieces.__file__, journey.__file__, *loaded]))\n"
    )
    for file in _python_in(app, script):
        assert Path(file).is_relative_to(app), f"{file} is not in the image"


GLUE_TESTS = (
    "test_unit_ratelimit.py",
    "test_unit_inventory_errors.py",
    "test_unit_consumer.py",
    "test_unit_problems.py",
)


@pytest.mark.redis  # the rate limits' glue is tested against Redis
def test_the_glue_works_on_learner_pieces_as_on_the_reference(tmp_path: Path) -> None:
    """The ``--mine`` path: every piece's lesson finished (its solutions copied over the stubs,
    so a piece's own imports of its lesson work too), every piece chosen as the learner's, and
    the capstone's tests of the glue around them pass unchanged."""
    lab = _lab_with_pieces(tmp_path / "lab")
    shutil.copytree(ROOT / "capstone", lab / "capstone", dirs_exist_ok=True)
    (lab / "tests" / "capstone").mkdir()
    for name in ("conftest.py", *GLUE_TESTS):
        shutil.copy2(ROOT / "tests" / "capstone" / name, lab / "tests" / "capstone" / name)
    for lesson in {p.lesson for p in pieces.PIECES.values()}:
        shutil.copytree(lab / "solutions" / lesson, lab / "exercises" / lesson, dirs_exist_ok=True)
    mine = ",".join(p.exercise for p in pieces.PIECES.values())
    inherited = _inherited()
    script = (
        "import json\n"
        "from capstone import pieces\n"
        "chosen = {p.module: [w, pieces.piece(p.module).__file__] for p, w in pieces.which()}\n"
        "chosen['compose_check'] = ['yours',"
        " pieces.lesson_module('deploy_check', 'compose_check').__file__]\n"
        "chosen['contract'] = ['yours', str(pieces.piece_file('shop_contract_test'))]\n"
        "print(json.dumps(chosen))\n"
    )
    chosen = _python_in(lab, script, **inherited, **{pieces.MINE_ENV: mine})
    # a module of a piece's lesson comes from the same side as the piece
    compose_check = chosen.pop("compose_check")[1]
    assert Path(compose_check).is_relative_to(lab / "exercises" / "10_containers"), compose_check
    # and a piece that is a test file is found without importing it, for pytest to run
    contract = chosen.pop("contract")[1]
    assert contract == str(lab / "exercises" / "11_testing" / "shop_contract_test.py"), contract
    for piece in pieces.PIECES.values():
        whose, file = chosen[piece.module]
        assert whose == "yours"
        assert Path(file).is_relative_to(lab / "exercises" / piece.lesson), file
    tests = [f"tests/capstone/{name}" for name in GLUE_TESTS]
    pytest_run = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
    ]
    done = subprocess.run(
        [*pytest_run, *tests],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=300,
        env={**inherited, "HOME": str(lab), pieces.MINE_ENV: mine},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout, done.stdout
    assert "skipped" not in done.stdout, done.stdout

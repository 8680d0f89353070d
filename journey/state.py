"""The learner's local state in ``.journey/`` (ignored by git): progress and hints seen."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from journey.catalog import ROOT
from journey.files import atomic_write_text

STATE_DIR = ROOT / ".journey"


@dataclass(frozen=True)
class ExerciseProgress:
    passed: bool
    tests_passed: int
    tests_total: int
    checked_at: str


def _load(name: str) -> dict[str, Any]:
    path = STATE_DIR / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        # Lost or damaged state is rebuilt by the next check; it is never worth a crash.
        return {}
    return data if isinstance(data, dict) else {}


def _save(name: str, data: dict[str, Any]) -> None:
    STATE_DIR.mkdir(exist_ok=True)
    atomic_write_text(STATE_DIR / name, json.dumps(data, indent=2, sort_keys=True) + "\n")


def load_progress() -> dict[str, ExerciseProgress]:
    progress = {}
    for exercise_id, raw in _load("progress.json").items():
        try:
            progress[exercise_id] = ExerciseProgress(**raw)
        except TypeError:
            continue
    return progress


def record_progress(results: dict[str, ExerciseProgress]) -> None:
    data = _load("progress.json")
    data.update({exercise_id: asdict(p) for exercise_id, p in results.items()})
    _save("progress.json", data)


def now_stamp() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")


def hints_seen(exercise_id: str) -> int:
    value = _load("hints.json").get(exercise_id, 0)
    return value if isinstance(value, int) else 0


def remember_hints_seen(exercise_id: str, count: int) -> None:
    data = _load("hints.json")
    data[exercise_id] = count
    _save("hints.json", data)


def load_test_timings() -> dict[str, float]:
    """How long each test file took at its last check (seconds), to share out the next one."""
    return {
        file: float(seconds)
        for file, seconds in _load("timings.json").items()
        if isinstance(seconds, int | float)
    }


def record_test_timings(seconds_by_file: dict[str, float]) -> None:
    if not seconds_by_file:
        return
    data = _load("timings.json")
    data.update({file: round(seconds, 3) for file, seconds in seconds_by_file.items()})
    _save("timings.json", data)

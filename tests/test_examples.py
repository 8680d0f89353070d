"""Every lesson example runs to completion by itself, as a learner would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from journey.catalog import LESSONS_DIR, ROOT, lessons

EXAMPLE_TIMEOUT_SECONDS = 60


def _examples() -> list[object]:
    params = []
    for lesson in lessons():
        marks = [getattr(pytest.mark, name) for name in lesson.services]
        for script in sorted((LESSONS_DIR / lesson.folder / "examples").glob("[0-9]*.py")):
            params.append(
                pytest.param(
                    script, lesson.services, marks=marks, id=f"{lesson.folder}/{script.name}"
                )
            )
    return params


@pytest.mark.parametrize(("script", "needs"), _examples())
def test_example_runs(script: Path, needs: tuple[str, ...], request: pytest.FixtureRequest) -> None:
    env = dict(os.environ)
    if "postgres" in needs:
        # The session's own test database: whatever an example leaves there is dropped with it.
        env["JOURNEY_POSTGRES_URL"] = request.getfixturevalue("postgres_database")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=EXAMPLE_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, (
        f"{script.relative_to(ROOT)} exited with {result.returncode}:\n{result.stderr[-3000:]}"
    )
    assert result.stdout.strip(), f"{script.relative_to(ROOT)} should print what it shows"

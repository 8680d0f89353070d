"""How long one exercise test may run before it counts as hung ("timed out after N s").

The lab's pytest plugin puts the limit on every exercise test as a pytest-timeout marker (a test
may set its own with ``@pytest.mark.timeout(seconds)``); ``journey check`` uses the same limit
for importing the tests. Cheap to import: no pytest here.
"""

from __future__ import annotations

import os

from journey.catalog import Exercise

TEST_TIMEOUT = 10.0
SERVICE_TEST_TIMEOUT = 30.0  # a test that talks to PostgreSQL, Redis or RabbitMQ
TIMEOUT_ENV = "JOURNEY_TEST_TIMEOUT"  # seconds per test; tests that need services get 3 times it


def timeout_for(exercise: Exercise) -> float:
    """A test's time limit: ``JOURNEY_TEST_TIMEOUT`` seconds (default ``TEST_TIMEOUT``), three
    times that when the exercise needs a backing service (``SERVICE_TEST_TIMEOUT``)."""
    base = os.environ.get(TIMEOUT_ENV, "").strip()
    try:
        seconds = float(base) if base else 0.0
    except ValueError:
        raise ValueError(f"{TIMEOUT_ENV} must be a number of seconds, not {base!r}") from None
    if seconds <= 0:
        return SERVICE_TEST_TIMEOUT if exercise.services else TEST_TIMEOUT
    return seconds * 3 if exercise.services else seconds

"""The lab's pytest plugin: which tree the tests run against, honest stub verification,
exercise ids on test items, and the backing-service markers and fixtures.

Options:

``--solutions``
    run every test against ``solutions/`` (sets ``JOURNEY_TARGET=solutions``).
``--verify-stubs``
    run only the exercise tests, against the untouched stubs in ``exercises/``; a test that
    *passes* there is reported as a failure, because it cannot tell a finished exercise from
    an unfinished one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from journey import embedded, services
from journey.catalog import CatalogError, Exercise, exercise_for_test_file
from journey.targets import TARGET_ENV

if TYPE_CHECKING:
    import redis

VERIFY_STUBS = "journey_verify_stubs"
EXERCISE_KEY = pytest.StashKey[Exercise]()
TEST_PREFIX = "journey-test"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("journey", "Python Learning Journey")
    group.addoption(
        "--solutions",
        action="store_true",
        help="run the tests against solutions/ instead of exercises/",
    )
    group.addoption(
        "--verify-stubs",
        action="store_true",
        dest=VERIFY_STUBS,
        help="run exercise tests against the untouched stubs; any test that passes is an error",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("solutions") and config.getoption(VERIFY_STUBS):
        raise pytest.UsageError("--solutions and --verify-stubs exclude each other: pick one.")
    if config.getoption("solutions"):
        os.environ[TARGET_ENV] = "solutions"
    elif config.getoption(VERIFY_STUBS):
        os.environ[TARGET_ENV] = "exercises"
    for name in services.SERVICES:
        config.addinivalue_line("markers", f"{name}: the test needs a reachable {name}")
    config.addinivalue_line("markers", "exercise(id): the lesson exercise this test checks")
    # The lab's embedded PostgreSQL and Redis when nothing else answers (JOURNEY_SERVICES).
    embedded.register_pytest_hooks(config)


def pytest_report_header(config: pytest.Config) -> str:
    target = os.environ.get(TARGET_ENV, "exercises")
    mode = " (verifying that every exercise test fails on the stubs)" if _verifying(config) else ""
    return f"journey: testing {target}/{mode}"


def _verifying(config: pytest.Config) -> bool:
    return bool(config.getoption(VERIFY_STUBS))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tags each exercise test with its exercise id and the services that exercise needs."""
    for item in items:
        try:
            exercise = exercise_for_test_file(Path(str(item.path)))
        except CatalogError as error:
            raise pytest.UsageError(str(error)) from error
        if exercise is None:
            continue
        item.stash[EXERCISE_KEY] = exercise
        item.add_marker(pytest.mark.exercise(exercise.id))
        for name in exercise.services:
            item.add_marker(getattr(pytest.mark, name))
    if _verifying(config):
        kept = [item for item in items if EXERCISE_KEY in item.stash]
        if items and not kept:
            raise pytest.UsageError(
                "--verify-stubs found no exercise tests here: exercise tests live in "
                "tests/NN_topic/test_<module>.py for a module listed in lesson.toml."
            )
        dropped = [item for item in items if EXERCISE_KEY not in item.stash]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def exercise_of(item: pytest.Item) -> Exercise | None:
    """The exercise a collected test checks, or None for examples, notebooks and the like."""
    return item.stash.get(EXERCISE_KEY, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if not _verifying(item.config) or call.when != "call" or exercise_of(item) is None:
        return report
    exercise = exercise_of(item)
    assert exercise is not None
    if report.passed:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} passes against the untouched stub of exercise {exercise.id}: "
            "it cannot tell a finished exercise from an unfinished one. Strengthen it."
        )
    elif report.failed:
        report.outcome = "passed"
        report.longrepr = None
    return report


def require_service(name: str) -> str:
    """The service's URL, or skip the test (fail it under JOURNEY_REQUIRE_SERVICES=1)."""
    problem = _probe_once(name)
    if problem is None:
        return services.SERVICES[name].url
    message = f"{services.SERVICES[name].hint()} ({problem})"
    if services.services_required():
        pytest.fail(f"{message}; {services.REQUIRE_ENV}=1 forbids skipping it.", pytrace=False)
    pytest.skip(message)


_probe_results: dict[str, str | None] = {}


def _probe_once(name: str) -> str | None:
    """Probes each service once per run: a dead service should not cost a timeout per test."""
    if name not in _probe_results:
        embedded.provide([name])  # a test that needs it without its marker or fixture
        _probe_results[name] = services.probe(name)
    return _probe_results[name]


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name in services.SERVICES:
        if item.get_closest_marker(name) is not None:
            require_service(name)


def unique_name(purpose: str) -> str:
    """A name no other test, or other test run, uses: ``journey-test.<pid>.<hex>.<purpose>``."""
    return f"{TEST_PREFIX}.{os.getpid()}.{uuid.uuid4().hex[:8]}.{purpose}"


# -- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own for this test session, dropped at the end (even after failures)."""
    from journey import pg

    admin_url = require_service("postgres")
    pg.drop_orphaned_test_databases(admin_url)
    url = pg.create_test_database(admin_url)
    try:
        yield url
    finally:
        pg.drop_database(admin_url, url)


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """A URL whose connections see a fresh, empty schema: tests cannot see each other's tables.

    Use it with psycopg as it is; for SQLAlchemy, ``journey.pg.sqlalchemy_url(postgres_url)``.
    """
    from journey import pg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = pg.create_schema(postgres_database, schema)
    try:
        yield url
    finally:
        pg.drop_schema(postgres_database, schema)


# -- Redis --------------------------------------------------------------------------------


@dataclass
class RedisSpace:
    """A Redis client and a key prefix that belongs to one test; its keys go when it ends."""

    client: redis.Redis
    prefix: str
    url: str

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))


@pytest.fixture
def redis_space() -> Iterator[RedisSpace]:
    import redis as redis_lib

    url = require_service("redis")
    client = redis_lib.Redis.from_url(url, decode_responses=True)
    space = RedisSpace(client=client, prefix=unique_name("redis").replace(".", ":"), url=url)
    try:
        yield space
    finally:
        stale = list(client.scan_iter(match=f"{space.prefix}*", count=500))
        if stale:
            client.delete(*stale)
        client.close()


# -- RabbitMQ -----------------------------------------------------------------------------


@pytest.fixture
def rabbitmq_url() -> str:
    return require_service("rabbitmq")


@pytest.fixture
def rabbit_names(rabbitmq_url: str) -> Iterator[Callable[[str], str]]:
    """Makes unique queue and exchange names; every one of them is deleted after the test."""
    from journey import amqp

    made: list[str] = []

    def make(purpose: str) -> str:
        name = unique_name(purpose)
        made.append(name)
        return name

    try:
        yield make
    finally:
        amqp.delete_queues_and_exchanges(rabbitmq_url, made)

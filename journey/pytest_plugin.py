"""The lab's pytest plugin (``-p journey.pytest_plugin``, in pyproject.toml's addopts): the
backing-service markers and fixtures. It registers ``journey.testmodes`` too, which holds the
test modes (``--solutions``, ``--verify-stubs``, ``--verify-mutants``), the exercise tags and
the per-test time limits.

Fixtures: ``postgres_database`` (a database for the session), ``postgres_url`` (a fresh schema
per test), ``redis_space`` (a key prefix per test), ``rabbitmq_url`` and ``rabbit_names``
(unique queue and exchange names). Nothing they make outlives the test, passed or failed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from journey import provision, services

if TYPE_CHECKING:
    import redis

pytest_plugins = ["journey.testmodes"]
TEST_PREFIX = "journey-test"
# Set by a parent that runs many short pytest sessions (--verify-mutants, journey check --watch):
# the database every session uses, instead of creating and dropping one each time.
SESSION_DATABASE_ENV = "JOURNEY_TEST_DATABASE_URL"
_MOVED_TO_TESTMODES = ("EXERCISE_KEY", "VERIFY_STUBS", "exercise_of")


def __getattr__(name: str) -> object:
    """Names that moved to journey.testmodes stay importable from here. (Imported lazily:
    pytest must register journey.testmodes itself to rewrite its asserts.)"""
    if name in _MOVED_TO_TESTMODES:
        from journey import testmodes

        return getattr(testmodes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_configure(config: pytest.Config) -> None:
    for name in services.SERVICES:
        config.addinivalue_line("markers", f"{name}: the test needs a reachable {name}")
    # The lab's embedded PostgreSQL and Redis when nothing else answers (JOURNEY_SERVICES).
    provision.register_pytest_hooks(config)


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
        provision.provide([name])  # a test that needs it without its marker or fixture
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
    """A database of its own for this test session, dropped at the end (even after failures).

    With ``JOURNEY_TEST_DATABASE_URL`` set (by a parent that runs many short sessions, such as
    ``--verify-mutants`` or ``journey check --watch``), that database is used as it is: the
    parent made it and drops it.
    """
    from journey import pg

    admin_url = require_service("postgres")
    if shared := os.environ.get(SESSION_DATABASE_ENV):
        yield shared
        return
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

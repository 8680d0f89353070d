"""The backing services that lessons 04 onward and the capstone use: where they are, whether
they answer, and how to start them.

Each service is found by a URL from the environment, with a default that matches the
``compose.yaml`` at the project root. Client libraries are imported inside the probes, so a
lesson that needs no service never pays for importing them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

REQUIRE_ENV = "JOURNEY_REQUIRE_SERVICES"
PROBE_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Service:
    name: str
    env_var: str
    default_url: str
    start_command: str

    @property
    def url(self) -> str:
        return os.environ.get(self.env_var) or self.default_url

    def hint(self) -> str:
        """What to tell a learner when the service does not answer."""
        from journey.provision import other_ways  # the ways without Docker

        return (
            f"{self.name} is not reachable at {redact(self.url)}. "
            f"Start it with `{self.start_command}` (or set {self.env_var})." + other_ways(self.name)
        )


SERVICES: dict[str, Service] = {
    "postgres": Service(
        "postgres",
        "JOURNEY_POSTGRES_URL",
        "postgresql://postgres:postgres@127.0.0.1:5432/postgres",
        "docker compose up -d postgres",
    ),
    "redis": Service(
        "redis", "JOURNEY_REDIS_URL", "redis://127.0.0.1:6379/0", "docker compose up -d redis"
    ),
    "rabbitmq": Service(
        "rabbitmq",
        "JOURNEY_RABBITMQ_URL",
        "amqp://guest:guest@127.0.0.1:5672/",
        "docker compose up -d rabbitmq",
    ),
}


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def services_required() -> bool:
    """CI sets JOURNEY_REQUIRE_SERVICES=1: a missing service is then a failure, not a skip."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}


def _tcp_reachable(url: str, default_port: int) -> None:
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or default_port)
    with socket.create_connection(address, timeout=PROBE_TIMEOUT_SECONDS):
        pass


def _probe_postgres(url: str) -> None:
    _tcp_reachable(url, 5432)  # fails fast on a closed port, before the driver's own timeout
    import psycopg

    with psycopg.connect(url, connect_timeout=int(PROBE_TIMEOUT_SECONDS)) as conn:
        conn.execute("SELECT 1")


def _probe_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


def _probe_rabbitmq(url: str) -> None:
    _tcp_reachable(url, 5672)
    import asyncio

    import aio_pika

    async def handshake() -> None:
        connection = await aio_pika.connect(url, timeout=PROBE_TIMEOUT_SECONDS)
        await connection.close()

    asyncio.run(handshake())


_PROBES: dict[str, Callable[[str], None]] = {
    "postgres": _probe_postgres,
    "redis": _probe_redis,
    "rabbitmq": _probe_rabbitmq,
}


def probe(name: str) -> str | None:
    """None when the service answers a real request; otherwise why it did not."""
    service = SERVICES[name]
    try:
        _PROBES[name](service.url)
    except Exception as error:
        return f"{type(error).__name__}: {error}".strip()
    return None

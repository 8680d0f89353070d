"""A heartbeat extends an instance whose deadline has passed but that nobody removed yet.

Instances of a service announce themselves ("catalog is at 10.0.0.7:8001") and keep
announcing: each registration has a deadline, ``ttl_seconds`` after the last heartbeat. An
instance that stops heartbeating (it crashed, froze, or lost the network) is gone once its
deadline passes - without anyone having to notice and remove it. Clients ask for the live
instances of a service and balance over them.

Layout in Redis: one sorted set per service, ``{prefix}:services:{service}``, whose members are
the addresses and whose scores are their deadlines (``clock() + ttl_seconds``). Finding the
live ones is one ``ZRANGE ... BYSCORE`` from "now" upwards; forgetting the dead ones is one
``ZREMRANGEBYSCORE`` up to "now". The deadlines come from the injected ``clock`` (default
``time.time``) so that a test can move time by hand; it must be wall-clock time in production,
because the deadlines written by one machine are compared by others (``time.monotonic`` is
different in every process).

An instance is alive while ``clock() < deadline``: at exactly ``ttl_seconds`` after its last
heartbeat it is gone. The sorted set key itself also gets a Redis expiry (``EXPIRE``, in whole
seconds, at least ``ttl_seconds``), renewed on every register and heartbeat, so a service whose
instances all died leaves nothing behind.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any

SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")


def parse_address(address: str) -> tuple[str, int]:
    """Splits ``"host:port"`` into ``(host, port)``.

    The host is a name or an IPv4 address (``"catalog-1"``, ``"10.0.0.7"``) or a bracketed IPv6
    address (``"[::1]:8001"`` gives ``("::1", 8001)``); the port is a whole number from 1 to
    65535. Anything else - no port, an empty host, a URL such as ``"http://h:1"``, a port of 0
    or 70000 or "abc" - is a ValueError whose message contains "host:port" and the address.
    """
    problem = ValueError(
        f"an instance address must be host:port (e.g. 10.0.0.7:8001), got {address!r}"
    )
    if not isinstance(address, str):
        raise problem
    match = re.fullmatch(
        r"\[(?P<v6>[0-9A-Fa-f:.]+)\]:(?P<port6>\d{1,5})|(?P<host>[^\s:/\[\]@]+):(?P<port>\d{1,5})",
        address,
    )
    if match is None:
        raise problem
    host = match["v6"] or match["host"]
    port = int(match["port6"] or match["port"])
    if not 1 <= port <= 65535:
        raise problem
    return host, port


class ServiceRegistry:
    """Registrations with a TTL, in Redis.

    ``ServiceRegistry(redis, prefix="shop:registry", ttl_seconds=10)``

    - ``redis`` is a ``redis.asyncio.Redis``, made with or without ``decode_responses=True``
      (answers may come back as ``bytes`` or ``str``: return ``str`` either way);
    - ``prefix`` starts every key this registry writes;
    - ``ttl_seconds`` (> 0, else a ValueError saying "ttl_seconds must be positive") is how
      long a registration lives after its last heartbeat;
    - ``clock`` returns the current time in seconds.

    Service names must match ``SERVICE_NAME`` (1 to 63 characters of ``a-z 0-9 . _ -``,
    starting with a letter or digit); any other name is a ValueError whose message contains
    "service name". Addresses are checked with ``parse_address``. Keep ``redis``, ``prefix``,
    ``ttl_seconds`` and ``clock`` as attributes of the same names.
    """

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not ttl_seconds > 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds!r}")
        self.redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        # Redis expires whole keys in whole seconds: round up, so the key outlives every member.
        self._key_ttl = max(1, math.ceil(ttl_seconds))

    def key(self, service: str) -> str:
        """The sorted set of ``service``: ``{prefix}:services:{service}`` (ValueError for a
        name that does not match SERVICE_NAME)."""
        if not isinstance(service, str) or not SERVICE_NAME.fullmatch(service):
            raise ValueError(
                f"a service name is 1-63 characters of a-z, 0-9, '.', '_', '-', got {service!r}"
            )
        return f"{self.prefix}:services:{service}"

    async def register(self, service: str, address: str) -> None:
        """Adds (or renews) ``address`` as a live instance of ``service`` for ``ttl_seconds``,
        and (re)sets the key's expiry."""
        parse_address(address)
        key = self.key(service)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {address: self.clock() + self.ttl_seconds})
            pipe.expire(key, self._key_ttl)
            await pipe.execute()

    async def heartbeat(self, service: str, address: str) -> bool:
        """Extends a live registration by ``ttl_seconds`` from now and returns True.

        Returns False, and writes nothing for this address, when it is not registered: never
        registered, deregistered, or expired (its deadline has passed, even if nobody has
        removed it yet). The instance must then ``register`` again.
        """
        parse_address(address)
        key = self.key(service)
        now = self.clock()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {address: now + self.ttl_seconds}, xx=True)  # only if still there
            pipe.zscore(key, address)
            pipe.expire(key, self._key_ttl)
            _, score, _ = await pipe.execute()
        return score is not None

    async def deregister(self, service: str, address: str) -> bool:
        """Removes ``address`` now (a clean shutdown); True if it was registered."""
        parse_address(address)
        return bool(await self.redis.zrem(self.key(service), address))

    async def discover(self, service: str) -> list[str]:
        """The addresses of the live instances of ``service``, sorted; [] when there are none.

        Expired registrations are removed from Redis on the way (they are never returned).
        """
        key = self.key(service)
        now = self.clock()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zrange(key, f"({now}", "+inf", byscore=True)
            _, members = await pipe.execute()
        return sorted(m.decode() if isinstance(m, bytes) else m for m in members)

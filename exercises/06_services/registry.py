"""06.3 A service registry in Redis: register, heartbeat, expire, discover.

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
    raise NotImplementedError("06.3: split host:port, or raise ValueError saying host:port")


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
        raise NotImplementedError("06.3: check ttl_seconds, keep the four arguments")

    def key(self, service: str) -> str:
        """The sorted set of ``service``: ``{prefix}:services:{service}`` (ValueError for a
        name that does not match SERVICE_NAME)."""
        raise NotImplementedError("06.3: the key of a service's sorted set")

    async def register(self, service: str, address: str) -> None:
        """Adds (or renews) ``address`` as a live instance of ``service`` for ``ttl_seconds``,
        and (re)sets the key's expiry."""
        raise NotImplementedError("06.3: ZADD the address with its deadline, EXPIRE the key")

    async def heartbeat(self, service: str, address: str) -> bool:
        """Extends a live registration by ``ttl_seconds`` from now and returns True.

        Returns False, and writes nothing for this address, when it is not registered: never
        registered, deregistered, or expired (its deadline has passed, even if nobody has
        removed it yet). The instance must then ``register`` again.
        """
        raise NotImplementedError("06.3: extend a live registration only")

    async def deregister(self, service: str, address: str) -> bool:
        """Removes ``address`` now (a clean shutdown); True if it was registered."""
        raise NotImplementedError("06.3: ZREM the address")

    async def discover(self, service: str) -> list[str]:
        """The addresses of the live instances of ``service``, sorted; [] when there are none.

        Expired registrations are removed from Redis on the way (they are never returned).
        """
        raise NotImplementedError("06.3: drop the expired, return the live addresses")

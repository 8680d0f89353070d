"""Several instances of a service, found through a registry (lesson 06).

Each instance of catalog, orders and notifier registers the address it serves on while it runs
(:func:`registration`, in its lifespan), and the gateway asks the registry for the instances of a
service and balances its calls over them (:func:`discovery_client`). The logic is the lesson's:
06.3's ``ServiceRegistry`` (a sorted set per service in Redis, heartbeats, expiry), 06.1's
``RoundRobin`` and 06.6's ``Registration`` and ``DiscoveryClient`` (a cached snapshot of the
registry, and passive health: an instance whose calls keep failing is skipped for a while).
This module only wires them to the shop's settings and Redis.

Every key lives under the deployment's own prefix (``<KEY_PREFIX>:registry:services:<name>``), so
shops that share one Redis (tests, the bench, the chaos drill) never see each other's instances.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from capstone.common.logging import get_logger
from capstone.common.settings import ServiceSettings
from capstone.pieces import piece

REGISTRY_KEY = "registry"
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
_log = get_logger(__name__)


def service_registry(redis: Any, settings: ServiceSettings) -> Any:
    """06.3's registry in ``redis``, under this deployment's key prefix."""
    return piece("registry").ServiceRegistry(
        redis, prefix=settings.key(REGISTRY_KEY), ttl_seconds=settings.registry_ttl_seconds
    )


def advertised_address(settings: ServiceSettings) -> str:
    """The ``host:port`` the gateway calls this instance at: ``ADVERTISE_ADDRESS``, else where it
    listens. An instance listening on every interface (``0.0.0.0``) is announced by its host
    name, which is what a container's neighbours know it by."""
    if settings.advertise_address:
        return settings.advertise_address
    host = settings.service_host
    if host in WILDCARD_HOSTS:
        host = socket.gethostname()
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"{host}:{settings.service_port}"


@asynccontextmanager
async def registration(service: str, redis: Any, settings: ServiceSettings) -> AsyncIterator[None]:
    """``async with registration("catalog", redis, settings):`` keeps this instance in the
    registry while the block runs (06.6's ``Registration``: it heartbeats, and deregisters at the
    end, a clean shutdown).

    An instance whose Redis does not answer at start still starts, as it does for its cache: it
    answers not ready (its readiness checks Redis) and registers as soon as Redis is back."""
    registry = service_registry(redis, settings)
    announced = piece("discovery").Registration(registry, service, advertised_address(settings))
    retrying: asyncio.Task[None] | None = None
    try:
        await announced.start()
    except Exception as error:
        _log.warning("not registered yet, trying again", service=service, error=repr(error))
        retrying = asyncio.create_task(_register_when_possible(announced), name="registration")
    try:
        yield
    finally:
        if retrying is not None:
            retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retrying
        await announced.stop()  # nothing to do when it never registered


async def _register_when_possible(announced: Any) -> None:
    pause = announced.interval_seconds
    while True:
        await asyncio.sleep(pause)
        try:
            await announced.start()
        except Exception:
            continue  # Redis is still away: the next try, one heartbeat later
        _log.info("registered", service=announced.service, address=announced.address)
        return


def discovery_client(
    redis: Any,
    settings: ServiceSettings,
    *,
    cache_seconds: float,
    failure_threshold: int,
    cooldown_seconds: float,
) -> Any:
    """06.6's ``DiscoveryClient`` over the registry, balancing round robin (06.1).

    Round robin rather than least connections: an instance that has just died answers every call
    at once with a refused connection, so it always has the fewest calls in flight and least
    connections would send it *more* of them until passive health skips it."""
    return piece("discovery").DiscoveryClient(
        service_registry(redis, settings),
        balancer_factory=piece("balancing").RoundRobin,
        cache_seconds=cache_seconds,
        failure_threshold=failure_threshold,
        cooldown_seconds=cooldown_seconds,
    )


def no_instance_error() -> type[Exception]:
    """The piece's ``NoInstanceAvailable``: no instance of a service can take a call now."""
    error: type[Exception] = piece("discovery").NoInstanceAvailable
    return error

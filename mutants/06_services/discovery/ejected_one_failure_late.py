"""Makes an instance unhealthy one failure late (> instead of >=).

Several instances of a service run at once; the gateway must find them and spread its calls
over them. This module joins the registry (06.3) and a balancing strategy (06.1) into the two
parts the capstone runs on:

- ``Registration``: an instance registers itself at start, heartbeats in a background task
  while it runs (re-registering if it finds itself gone), and deregisters at shutdown.
- ``DiscoveryClient``: the caller asks for a lease on an instance of a service, calls it at
  ``lease.base_url``, and gives the lease back saying whether the call went through. An
  instance whose calls keep failing is skipped for a while (a *passive* health check: the
  traffic itself is the probe). The registry's answer is cached briefly, so a request does
  not cost a Redis round trip.

Both take their dependencies as arguments and read no settings: a registry (anything with the
methods of ``Registry``, e.g. 06.3's ``ServiceRegistry``, which holds the Redis client, the key
prefix, the TTL and the wall clock), a balancer factory (e.g. 06.1's ``RoundRobin``), a clock
and a sleep function. The capstone wires them like this::

    registry = ServiceRegistry(redis, prefix=f"{key_prefix}:registry", ttl_seconds=10)

    # in each service's lifespan
    async with Registration(registry, "catalog", f"{host}:{port}"):
        yield

    # in the gateway
    discovery = DiscoveryClient(registry, balancer_factory=LeastConnections)
    async with discovery.lease("catalog") as lease:
        reply = await http.request("GET", f"{lease.base_url}/products/7")
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

_log = logging.getLogger(__name__)


class Registry(Protocol):
    """What discovery needs from a registry (06.3's ``ServiceRegistry`` has all of it)."""

    ttl_seconds: float

    async def register(self, service: str, address: str) -> None: ...

    async def heartbeat(self, service: str, address: str) -> bool: ...

    async def deregister(self, service: str, address: str) -> bool: ...

    async def discover(self, service: str) -> list[str]: ...


class Balancer(Protocol):
    """What discovery needs from a strategy (06.1's ``RoundRobin`` and ``LeastConnections``)."""

    def pick(self, instances: Sequence[str], *, unhealthy: Collection[str] = ()) -> str: ...

    def release(self, instance: str) -> None: ...


class NoInstanceAvailable(LookupError):
    """No instance of ``service`` can take a call now (given); a gateway answers 503.

    The message starts with the service's name and says why: ``"catalog: no instance is
    registered"``, ``"catalog: all 3 instances are failing"``, or ``"catalog: the registry
    cannot be reached"`` (then the registry's error is the ``__cause__``).
    """

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service


@dataclass(frozen=True)
class Lease:
    """One instance of ``service``, picked for one call (given)."""

    service: str
    address: str

    @property
    def base_url(self) -> str:
        """``http://`` and the address, e.g. ``"http://10.0.0.7:8001"``."""
        return f"http://{self.address}"


class Registration:
    """Keeps one instance registered while it runs.

    ``async with Registration(registry, "catalog", "10.0.0.7:8001"):`` - or ``await start()``
    then ``await stop()``.

    - ``start`` registers the instance (errors from that first ``register`` are raised: a
      service that cannot announce itself should not start, and no task is left running),
      then starts a background task that, every ``interval_seconds``, calls ``heartbeat``;
      when ``heartbeat`` answers False (the registration expired or was removed) it calls
      ``register`` again. An error in the task (Redis away for a moment) is logged and does
      not end it: the next beat tries again.
    - ``stop`` cancels the task, waits for it to end, then deregisters the instance. Set a
      "stopping" flag that the loop checks as well: a cancellation can be lost (in Python 3.11,
      ``asyncio.wait_for``, which redis-py uses, can swallow one that lands just as a Redis call
      ends), and a loop that relies on the cancel alone then never ends. An error from
      ``deregister`` is logged, not raised: the registration expires by itself anyway.
      Calling ``stop`` without ``start``, or twice, does nothing.
    - ``interval_seconds`` defaults to a third of ``registry.ttl_seconds``, so two beats in a
      row can be missed before the instance expires. It must be positive and shorter than the
      TTL, else a ValueError whose message contains "interval_seconds". Keep it as the
      attribute ``interval_seconds``.
    - ``sleep`` waits between beats (``asyncio.sleep``; tests pass a fake one).
    """

    def __init__(
        self,
        registry: Registry,
        service: str,
        address: str,
        *,
        interval_seconds: float | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        interval = registry.ttl_seconds / 3 if interval_seconds is None else interval_seconds
        if not 0 < interval < registry.ttl_seconds:
            raise ValueError(
                "interval_seconds must be positive and shorter than the registry's TTL "
                f"({registry.ttl_seconds}s), got {interval!r}"
            )
        self.registry = registry
        self.service = service
        self.address = address
        self.interval_seconds = interval
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        """True between a successful ``start`` and ``stop``."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        await self.registry.register(self.service, self.address)
        self._stopping = False
        self._task = asyncio.create_task(self._beat(), name=f"heartbeat {self.service}")

    async def _beat(self) -> None:
        # The flag as well as the cancel: in Python 3.11, asyncio.wait_for (which redis-py uses
        # for its socket timeouts) can swallow a cancellation that lands just as a call ends.
        while not self._stopping:
            await self._sleep(self.interval_seconds)
            try:
                if not await self.registry.heartbeat(self.service, self.address):
                    await self.registry.register(self.service, self.address)
            except Exception:  # keep beating: the next one may get through
                _log.warning(
                    "heartbeat of %s at %s failed", self.service, self.address, exc_info=True
                )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await self.registry.deregister(self.service, self.address)
        except Exception:
            _log.warning("could not deregister %s at %s", self.service, self.address, exc_info=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


@dataclass
class _Snapshot:
    addresses: list[str]
    taken_at: float


@dataclass
class _Health:
    failures: int = 0
    ejected_until: float | None = None


class DiscoveryClient:
    """Finds a healthy instance of a service for each call, and learns from the outcome.

    ``DiscoveryClient(registry, balancer_factory=RoundRobin)``

    - Snapshot cache: the instances of a service are read from ``registry.discover`` at most
      once per ``cache_seconds`` (measured with ``clock``; a snapshot taken at t is fresh while
      ``clock() - t < cache_seconds``). Many calls at once on an empty or stale cache still
      cost ONE ``discover`` (the others wait for it). When ``discover`` fails, the last
      snapshot is used (stale beats nothing); with no snapshot at all, NoInstanceAvailable is
      raised (reason "the registry cannot be reached", error as cause). ``cache_seconds=0``
      reads the registry every time.
    - Balancing: one balancer per service, made with ``balancer_factory()`` the first time the
      service is needed (by ``acquire`` or ``release``); it picks among the snapshot's
      instances, skipping unhealthy ones.
    - Passive health: ``failure_threshold`` failed calls in a row (no success in between) make
      an instance unhealthy for ``cooldown_seconds``: it gets no call until then. A success
      sets its failure count back to zero; so does being made unhealthy, so that after the
      cooldown it has ``failure_threshold`` chances again.
    - NoInstanceAvailable when the snapshot is empty ("no instance is registered") or every
      instance is unhealthy ("all N instances are failing").

    Bad settings are a ValueError naming the setting: ``cache_seconds`` < 0,
    ``failure_threshold`` < 1, ``cooldown_seconds`` <= 0.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        balancer_factory: Callable[[], Balancer],
        cache_seconds: float = 1.0,
        failure_threshold: int = 3,
        cooldown_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if cache_seconds < 0:
            raise ValueError(f"cache_seconds must be 0 or more, got {cache_seconds!r}")
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold!r}")
        if not cooldown_seconds > 0:
            raise ValueError(f"cooldown_seconds must be positive, got {cooldown_seconds!r}")
        self.registry = registry
        self.balancer_factory = balancer_factory
        self.cache_seconds = cache_seconds
        self.failure_threshold = failure_threshold
        self.cooldown_seconds = cooldown_seconds
        self.clock = clock
        self._snapshots: dict[str, _Snapshot] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._balancers: dict[str, Balancer] = {}
        self._health: dict[tuple[str, str], _Health] = {}

    def _fresh(self, service: str) -> _Snapshot | None:
        snapshot = self._snapshots.get(service)
        if snapshot is not None and self.clock() - snapshot.taken_at < self.cache_seconds:
            return snapshot
        return None

    async def instances(self, service: str) -> list[str]:
        """The instances of ``service`` as last read from the registry (see the cache rules)."""
        if (snapshot := self._fresh(service)) is not None:
            return list(snapshot.addresses)
        lock = self._locks.setdefault(service, asyncio.Lock())
        async with lock:
            # Another caller may have refreshed it while this one waited for the lock.
            if (snapshot := self._fresh(service)) is not None:
                return list(snapshot.addresses)
            try:
                addresses = await self.registry.discover(service)
            except Exception as error:
                stale = self._snapshots.get(service)
                if stale is None:
                    raise NoInstanceAvailable(service, "the registry cannot be reached") from error
                _log.warning("registry unavailable, using %s's last snapshot", service)
                return list(stale.addresses)
            self._snapshots[service] = _Snapshot(list(addresses), self.clock())
            return list(addresses)

    def unhealthy(self, service: str) -> set[str]:
        """The instances of ``service`` that are skipped now (cooling down after failures)."""
        now = self.clock()
        return {
            address
            for (name, address), health in self._health.items()
            if name == service and health.ejected_until is not None and now < health.ejected_until
        }

    async def acquire(self, service: str) -> Lease:
        """Picks a healthy instance of ``service``. Give the lease back with ``release``."""
        addresses = await self.instances(service)
        if not addresses:
            raise NoInstanceAvailable(service, "no instance is registered")
        unhealthy = self.unhealthy(service)
        if all(address in unhealthy for address in addresses):
            raise NoInstanceAvailable(service, f"all {len(addresses)} instances are failing")
        return Lease(service, self._balancer(service).pick(addresses, unhealthy=unhealthy))

    def _balancer(self, service: str) -> Balancer:
        balancer = self._balancers.get(service)
        if balancer is None:
            balancer = self._balancers[service] = self.balancer_factory()
        return balancer

    def release(self, lease: Lease, *, ok: bool) -> None:
        """Gives a lease back: ``ok=True`` if the call went through (whatever its answer),
        ``ok=False`` if the instance could not be reached or did not answer in time."""
        self._balancer(lease.service).release(lease.address)
        health = self._health.setdefault((lease.service, lease.address), _Health())
        if ok:
            health.failures = 0
            return
        health.failures += 1
        if health.failures > self.failure_threshold:
            health.failures = 0
            health.ejected_until = self.clock() + self.cooldown_seconds
            _log.warning(
                "%s at %s is failing: skipped for %ss",
                lease.service,
                lease.address,
                self.cooldown_seconds,
            )

    @contextlib.asynccontextmanager
    async def lease(self, service: str) -> AsyncIterator[Lease]:
        """``async with discovery.lease("catalog") as lease:`` acquire, then always release.

        Leaving the block normally releases with ``ok=True``; an exception escaping it
        releases with ``ok=False`` and goes on. A cancellation (``asyncio.CancelledError``)
        says nothing about the instance: it releases the lease (in the balancer) without
        counting a success or a failure.
        """
        lease = await self.acquire(service)
        try:
            yield lease
        except Exception:
            self.release(lease, ok=False)
            raise
        except BaseException:  # cancelled: free the slot, judge nothing
            self._balancer(service).release(lease.address)
            raise
        else:
            self.release(lease, ok=True)

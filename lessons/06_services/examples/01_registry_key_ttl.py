"""A service registry in its simplest Redis form: one key per instance, with a TTL.

    uv run python lessons/06_services/examples/01_registry_key_ttl.py

Two instances of "catalog" register with a TTL of one second. Instance A heartbeats (it renews
its key); instance B falls silent, as a crashed process would. Nobody deletes B: Redis expires
its key, and discovery stops seeing it within the TTL. Needs Redis (JOURNEY_REDIS_URL).

Exercise 06.3 stores the same facts in one sorted set per service instead (address -> deadline):
discovery is then one command instead of a SCAN over keys, and tests can move a fake clock.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import redis.asyncio as aioredis

REDIS_URL = os.environ.get("JOURNEY_REDIS_URL") or "redis://127.0.0.1:6379/0"
PREFIX = f"lesson06-example:{uuid.uuid4().hex[:8]}"  # our keys only: Redis may be shared
TTL_MS = 1000
A, B = "10.0.0.1:8001", "10.0.0.2:8001"


def instance_key(service: str, address: str) -> str:
    return f"{PREFIX}:{service}:{address}"


async def register(client: aioredis.Redis, service: str, address: str) -> None:
    # SET with PX: the key disappears by itself TTL_MS milliseconds after the last write.
    await client.set(instance_key(service, address), "up", px=TTL_MS)


async def heartbeat(client: aioredis.Redis, service: str, address: str) -> bool:
    # XX: only if the key still exists. An instance that already expired must register again.
    return bool(await client.set(instance_key(service, address), "up", px=TTL_MS, xx=True))


async def discover(client: aioredis.Redis, service: str) -> list[str]:
    # SCAN walks the keyspace in small steps (never KEYS, which blocks Redis on a big keyspace).
    start = f"{PREFIX}:{service}:"
    keys = [key async for key in client.scan_iter(match=f"{start}*", count=100)]
    return sorted(key.removeprefix(start) for key in keys)


async def main() -> None:
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await register(client, "catalog", A)
        await register(client, "catalog", B)
        started = time.monotonic()
        print(f"registered {A} and {B} with a TTL of {TTL_MS} ms")
        print(f"  t=0.00s discover: {await discover(client, 'catalog')}")
        while True:  # A heartbeats every 0.3 s; B is silent. Stop when B is gone (or after 5 s).
            await asyncio.sleep(0.3)
            await heartbeat(client, "catalog", A)
            live = await discover(client, "catalog")
            elapsed = time.monotonic() - started
            print(f"  t={elapsed:.2f}s A heartbeats; discover: {live}")
            if B not in live or elapsed > 5:
                break
        print(f"B's key expired {TTL_MS} ms after its last write: nobody had to remove it")
        answer = await heartbeat(client, "catalog", B)
        print(f"a heartbeat for B now answers {answer}: B would have to register again")
        await client.delete(instance_key("catalog", A))  # a clean shutdown deregisters at once
        print(f"A deregistered on shutdown; discover: {await discover(client, 'catalog')}")
    finally:
        leftovers = [key async for key in client.scan_iter(match=f"{PREFIX}:*")]
        if leftovers:
            await client.delete(*leftovers)
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())

"""Why a rate limiter must be atomic: 50 concurrent callers against "read, then write" and
against one Lua script, on a real Redis. Then a login throttle that nobody can abuse to lock
someone else out.

Run: uv run python lessons/08_security/examples/05_redis_rate_limit_race.py
Needs Redis (JOURNEY_REDIS_URL, default redis://127.0.0.1:6379/0); every key it writes starts
with a unique prefix and is deleted at the end.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import redis.asyncio as aioredis

LIMIT, CALLERS, WINDOW_MS = 10, 50, 60_000
LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


async def naive_hit(client: aioredis.Redis, key: str) -> bool:
    now = int(time.time() * 1000)
    await client.zremrangebyscore(key, "-inf", now - WINDOW_MS)
    count = await client.zcard(key)  # every caller can read "room left" here...
    if count >= LIMIT:
        return False
    await client.zadd(key, {uuid.uuid4().hex: now})  # ...before any of them writes
    await client.pexpire(key, WINDOW_MS)
    return True


async def main() -> None:
    url = os.environ.get("JOURNEY_REDIS_URL", "redis://127.0.0.1:6379/0")
    prefix = f"lesson08-example:{uuid.uuid4().hex[:8]}"
    client = aioredis.Redis.from_url(url, max_connections=CALLERS)
    try:
        naive = await asyncio.gather(
            *(naive_hit(client, f"{prefix}:naive") for _ in range(CALLERS))
        )
        print(f"read-then-write: {sum(naive)} of {CALLERS} callers passed, limit {LIMIT}")

        script = client.register_script(LUA)

        async def atomic_hit() -> bool:
            now = int(time.time() * 1000)
            args = [now, WINDOW_MS, LIMIT, uuid.uuid4().hex]
            return bool(await script(keys=[f"{prefix}:atomic"], args=args))

        atomic = await asyncio.gather(*(atomic_hit() for _ in range(CALLERS)))
        print(f"one Lua script:  {sum(atomic)} of {CALLERS} callers passed, limit {LIMIT}")
        print("  Redis runs a script from start to end with no other command in between")

        async def login_attempt(account: str, client_ip: str) -> bool:
            now = int(time.time() * 1000)
            for key, limit in (
                (f"{prefix}:ip:{client_ip}", 20),
                (f"{prefix}:acct:{account}:{client_ip}", 5),
            ):
                if not await script(keys=[key], args=[now, WINDOW_MS, limit, uuid.uuid4().hex]):
                    return False
            return True

        guesses = [await login_attempt("alice", "203.0.113.9") for _ in range(60)]
        print(
            f"60 guesses at alice from one address: {sum(guesses)} allowed, {60 - sum(guesses)} not"
        )
        print(
            "alice from her own address 198.51.100.7:",
            "allowed" if await login_attempt("alice", "198.51.100.7") else "LOCKED OUT",
        )
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        print(f"cleaned up {len(keys)} keys")
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())

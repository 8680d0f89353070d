"""Redis data structures, TTLs and pipelines (redis-py).

Every key lives under a unique prefix and is deleted at the end.

    uv run python lessons/04_databases/examples/03_redis_structures.py
"""

from __future__ import annotations

import os
import time
import uuid

import redis

URL = os.environ.get("JOURNEY_REDIS_URL") or "redis://127.0.0.1:6379/0"


def main() -> None:
    client = redis.Redis.from_url(URL, decode_responses=True)
    prefix = f"journey-example:{uuid.uuid4().hex[:8]}"
    try:
        demo(client, prefix)
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        print(f"\ndeleted {len(keys)} keys under {prefix}")
        client.close()


def demo(client: redis.Redis, prefix: str) -> None:
    def k(name: str) -> str:
        return f"{prefix}:{name}"

    # string with a TTL: the classic cache entry
    client.set(k("session:42"), "alice", ex=30)
    print("string  :", client.get(k("session:42")), "ttl", client.ttl(k("session:42")), "s")
    client.set(k("lock"), "me", nx=True, ex=5)
    print("SET NX  : second try got", client.set(k("lock"), "you", nx=True, ex=5))

    # hash: a small record
    client.hset(k("user:1"), mapping={"name": "Ada", "visits": 0})
    client.hincrby(k("user:1"), "visits", 3)
    print("hash    :", client.hgetall(k("user:1")))

    # list: a simple FIFO queue
    client.rpush(k("jobs"), "a", "b", "c")
    print("list    : popped", client.lpop(k("jobs")), "left", client.lrange(k("jobs"), 0, -1))

    # set: unique members
    client.sadd(k("tags"), "python", "redis", "python")
    print("set     :", sorted(client.smembers(k("tags"))))

    # sorted set: a leaderboard
    client.zadd(k("board"), {"ann": 100, "bob": 80, "cid": 80, "dan": 50})
    print("zset    : top 3", client.zrange(k("board"), 0, 2, desc=True, withscores=True))

    # pipelines: one round trip for many commands
    n = 500
    start = time.perf_counter()
    for _ in range(n):
        client.incr(k("counter:plain"))
    plain = time.perf_counter() - start
    start = time.perf_counter()
    with client.pipeline(transaction=True) as pipe:  # MULTI ... EXEC: applied all together
        for _ in range(n):
            pipe.incr(k("counter:piped"))
        pipe.expire(k("counter:piped"), 60)
        results = pipe.execute()
    piped = time.perf_counter() - start
    print(f"pipeline: {n} INCRs one by one {plain * 1000:.1f} ms, pipelined {piped * 1000:.1f} ms")
    print("          last result", results[-2], "ttl", client.ttl(k("counter:piped")))


if __name__ == "__main__":
    main()

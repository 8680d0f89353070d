"""A queue, pub/sub and a log, side by side, on Redis.

- a **queue** (a list: LPUSH / BRPOP): each message goes to ONE worker and is gone once taken;
- **pub/sub** (PUBLISH / SUBSCRIBE): each message goes to EVERY subscriber connected right
  now; one that is away misses it for good;
- a **log** (a stream: XADD / XRANGE / consumer groups): messages are kept; every consumer
  group gets every message, the consumers inside a group share them, and anyone can re-read
  from any position. Kafka's topics work the same way (a partition is one such log).

Run: uv run python lessons/07_messaging/examples/01_queue_pubsub_log.py
"""

from __future__ import annotations

import os
import uuid

import redis

URL = os.environ.get("JOURNEY_REDIS_URL") or "redis://127.0.0.1:6379/0"


def queue_demo(r: redis.Redis, key: str) -> None:
    for n in range(4):
        r.lpush(key, f"job-{n}")
    taken = {"worker-a": [], "worker-b": []}
    for turn in range(4):  # two workers take turns: each job is taken once
        worker = "worker-a" if turn % 2 == 0 else "worker-b"
        _, job = r.brpop([key], timeout=1)
        taken[worker].append(job)
    print("queue   :", taken, "| left in the queue:", r.llen(key))


def pubsub_demo(r: redis.Redis, channel: str) -> None:
    early, late = r.pubsub(), r.pubsub()
    early.subscribe(channel)
    early.get_message(timeout=1)  # the subscription confirmation
    r.publish(channel, "price changed")  # only `early` is listening
    late.subscribe(channel)
    late.get_message(timeout=1)
    r.publish(channel, "stock changed")
    got_early = [early.get_message(timeout=1)["data"] for _ in range(2)]
    got_late = [late.get_message(timeout=1)["data"]]
    print("pub/sub : early subscriber got", got_early, "| late subscriber got", got_late)
    early.close()
    late.close()


def log_demo(r: redis.Redis, stream: str) -> None:
    ids = [r.xadd(stream, {"event": f"order-{n}"}) for n in range(4)]
    for group in ("billing", "shipping"):  # two groups: each gets every entry
        r.xgroup_create(stream, group, id="0")
    billing_a = r.xreadgroup("billing", "a", {stream: ">"}, count=2)[0][1]
    billing_b = r.xreadgroup("billing", "b", {stream: ">"}, count=2)[0][1]
    shipping = r.xreadgroup("shipping", "s", {stream: ">"}, count=10)[0][1]
    print("log     : billing/a got", [f["event"] for _, f in billing_a])
    print("          billing/b got", [f["event"] for _, f in billing_b])
    print("          shipping/s got", [f["event"] for _, f in shipping])
    print(
        "          still in the log, from the 3rd entry on:",
        [f["event"] for _, f in r.xrange(stream, min=ids[2])],
    )
    print(
        "          pending in billing (read, not acknowledged):",
        r.xpending(stream, "billing")["pending"],
    )


def main() -> None:
    r = redis.Redis.from_url(URL, decode_responses=True)
    prefix = f"journey-example:{uuid.uuid4().hex[:8]}"
    try:
        queue_demo(r, f"{prefix}:jobs")
        pubsub_demo(r, f"{prefix}:prices")
        log_demo(r, f"{prefix}:orders")
    finally:
        leftovers = list(r.scan_iter(match=f"{prefix}:*"))
        if leftovers:
            r.delete(*leftovers)
        r.close()
        print(f"deleted {len(leftovers)} key(s) under {prefix}")


if __name__ == "__main__":
    main()

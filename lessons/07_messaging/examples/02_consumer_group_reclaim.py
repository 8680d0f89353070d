"""A consumer group loses nothing when a consumer dies: XPENDING shows it, XAUTOCLAIM fixes it.

Consumer "a" reads five entries, handles two and dies. Its other three stay in the group's
pending entries list. Consumer "b" claims what has been idle long enough and finishes them.

Run: uv run python lessons/07_messaging/examples/02_consumer_group_reclaim.py
"""

from __future__ import annotations

import os
import time
import uuid

import redis

URL = os.environ.get("JOURNEY_REDIS_URL") or "redis://127.0.0.1:6379/0"
IDLE_MS = 100


def main() -> None:
    r = redis.Redis.from_url(URL, decode_responses=True)
    stream = f"journey-example:{uuid.uuid4().hex[:8]}:orders"
    try:
        r.xgroup_create(stream, "notifier", id="0", mkstream=True)
        for n in range(5):
            r.xadd(stream, {"order": f"o-{n}"})

        batch = r.xreadgroup("notifier", "a", {stream: ">"}, count=5)[0][1]
        for entry_id, fields in batch[:2]:
            print(f"a handled {fields['order']} and acknowledged {entry_id}")
            r.xack(stream, "notifier", entry_id)
        print("a dies with 3 entries in hand\n")

        summary = r.xpending(stream, "notifier")
        print("XPENDING:", summary["pending"], "pending;", summary["consumers"])
        for item in r.xpending_range(stream, "notifier", min="-", max="+", count=10):
            print(
                f"  {item['message_id']} on {item['consumer']}, delivered "
                f"{item['times_delivered']}x, idle {item['time_since_delivered']} ms"
            )

        # b claims entries idle for IDLE_MS or more; poll with a deadline until there are some
        deadline = time.monotonic() + 5
        claimed: list = []
        while not claimed and time.monotonic() < deadline:
            cursor, claimed, _deleted = r.xautoclaim(
                stream, "notifier", "b", min_idle_time=IDLE_MS, start_id="0-0", count=10
            )
            time.sleep(0.02)
        print(f"\nb claimed {len(claimed)} entries idle for {IDLE_MS} ms or more (cursor {cursor})")
        for entry_id, fields in claimed:
            print(f"b handled {fields['order']} and acknowledged {entry_id}")
            r.xack(stream, "notifier", entry_id)
        print("\npending now:", r.xpending(stream, "notifier")["pending"])
    finally:
        r.delete(stream)
        r.close()
        print(f"deleted {stream}")


if __name__ == "__main__":
    main()

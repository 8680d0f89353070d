"""Round robin against least connections, when one instance is slower than the others.

    uv run python lessons/06_services/examples/03_load_balancing.py

Three instances of a service: two answer in 10 ms, one in 60 ms (a busy machine, a long GC
pause). 300 calls are made with 12 in flight at a time, and each strategy picks the instance
for every call:

- round robin gives each instance the same number of calls, so every third call is a slow one;
- least connections sends each call to the instance with the fewest calls in flight: the slow
  one holds its calls longer, so it gets fewer new ones, by itself, with no latency measured.

Then one instance is marked unhealthy (as passive health checks do after failed calls) and
gets nothing. No network: each "call" is an asyncio.sleep of the instance's latency.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable

LATENCY = {"fast-1": 0.010, "fast-2": 0.010, "slow": 0.060}
CALLS, IN_FLIGHT = 300, 12


def round_robin(instances: list[str]) -> tuple[Callable[[], str], Callable[[str], None]]:
    turns = itertools.cycle(instances)
    return (lambda: next(turns)), (lambda _: None)


def least_connections(instances: list[str]) -> tuple[Callable[[], str], Callable[[str], None]]:
    busy: Counter[str] = Counter()

    def pick() -> str:
        chosen = min(instances, key=lambda i: busy[i])  # ties: the first in the list
        busy[chosen] += 1
        return chosen

    def release(instance: str) -> None:
        busy[instance] -= 1

    return pick, release


async def run(strategy: str, instances: list[str]) -> tuple[Counter[str], float, float]:
    pick, release = (round_robin if strategy == "round robin" else least_connections)(instances)
    slots = asyncio.Semaphore(IN_FLIGHT)
    served: Counter[str] = Counter()
    waits: list[float] = []

    async def call() -> None:
        async with slots:
            instance = pick()
            started = time.perf_counter()
            try:
                await asyncio.sleep(LATENCY[instance])
            finally:
                release(instance)
            served[instance] += 1
            waits.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(call() for _ in range(CALLS)))
    return served, time.perf_counter() - started, sum(waits) / len(waits)


async def main() -> None:
    instances = list(LATENCY)
    print(f"{CALLS} calls, {IN_FLIGHT} in flight; latency: {LATENCY}")
    for strategy in ("round robin", "least connections"):
        served, total, mean = await run(strategy, instances)
        shares = ", ".join(f"{name}: {served[name]}" for name in instances)
        print(f"{strategy:<18} {shares:<36} total {total:.2f}s, mean call {mean * 1000:.0f} ms")
    healthy = [i for i in instances if i != "slow"]  # "slow" failed its health checks
    served, total, _ = await run("round robin", healthy)
    print(f"slow unhealthy:    round robin over the rest -> {dict(served)} (slow gets nothing)")


if __name__ == "__main__":
    asyncio.run(main())

"""Load shedding with uvicorn's own limit, and why each dependency gets its own bulkhead.

Run: uv run python lessons/12_resilience/examples/03_shedding_and_bulkheads.py

1. uvicorn can shed load by itself: with `limit_concurrency=N` it answers 503 once N
   connections or requests are in progress. Two slow requests are being served when four more
   arrive: those are turned away at once instead of queueing. (Exercise 12.4 writes the same
   idea as middleware, with a jittered Retry-After and health checks that are never shed.)
2. A service calls two dependencies: "search" (slow today: 0.5 s) and "prices" (10 ms). With
   ONE pool of 4 concurrent calls shared by both, the slow search calls take every slot and the
   price lookups wait behind them. With one pool (bulkhead) per dependency, prices stay fast.
   (Exercise 12.3 adds what a plain semaphore lacks: a bound on waiting, and rejection.)
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import time

import httpx
import uvicorn
from fastapi import FastAPI


async def uvicorn_sheds_load() -> None:
    app = FastAPI()
    in_progress = 0

    @app.get("/report")
    async def report() -> dict:
        nonlocal in_progress
        in_progress += 1
        try:
            await asyncio.sleep(0.3)  # a slow request
        finally:
            in_progress -= 1
        return {"ok": True}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # uvicorn counts open connections (this one included) and running requests against it.
    config = uvicorn.Config(app, log_level="error", lifespan="off", limit_concurrency=3)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # poll with a deadline
                await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            first = [asyncio.create_task(client.get("/report")) for _ in range(2)]
            async with asyncio.timeout(10):
                while in_progress < 2:  # both are being served
                    await asyncio.sleep(0.005)
            started = time.perf_counter()
            late = await asyncio.gather(*(client.get("/report") for _ in range(4)))
            shed_in = time.perf_counter() - started
            served = await asyncio.gather(*first)
        print(f"  2 requests in progress: {[a.status_code for a in served]}")
        print(f"  4 more arrive: {[a.status_code for a in late]}, answered in {shed_in:.3f}s")
        print(f"  a shed answer: {late[0].text!r}")
    finally:
        server.should_exit = True
        await task
        sock.close()


async def call(pool: asyncio.Semaphore, seconds: float) -> float:
    """One call to a dependency through a pool of slots; returns how long the caller waited."""
    started = time.perf_counter()
    async with pool:
        await asyncio.sleep(seconds)
    return time.perf_counter() - started


async def prices_latency(shared: bool) -> float:
    search_pool = asyncio.Semaphore(4)
    prices_pool = search_pool if shared else asyncio.Semaphore(4)
    searches = [asyncio.create_task(call(search_pool, 0.5)) for _ in range(8)]
    await asyncio.sleep(0)  # the slow searches arrive first and take their slots
    prices = await asyncio.gather(*(call(prices_pool, 0.01) for _ in range(8)))
    await asyncio.gather(*searches)
    return statistics.median(prices)


async def main() -> None:
    print("1. Load shedding by uvicorn:")
    await uvicorn_sheds_load()
    print("2. A slow dependency, one shared pool or a bulkhead each:")
    shared = await prices_latency(shared=True)
    separate = await prices_latency(shared=False)
    print(f"  median price lookup, one pool shared with search: {shared * 1000:.0f} ms")
    print(f"  median price lookup, a bulkhead per dependency:   {separate * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())

"""What one request costs the client: httpx and aiohttp, the same calls, CPU time per request.

A gateway calls another service on almost every request it serves, so the CPU its HTTP client
spends per call is CPU it cannot spend on serving. The server runs in a process of its own, so
`time.process_time()` here counts the client's work only (the event loop, the pool, parsing).
Run: uv run python lessons/05_async/examples/07_client_cost.py
"""

import asyncio
import multiprocessing
import socket
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
from aiohttp import web

REQUESTS = 500
CONCURRENCY = 20  # requests in flight at once, as a busy gateway has


def serve(port: int) -> None:
    async def product(request: web.Request) -> web.Response:
        return web.json_response({"id": 7, "name": "mug", "price_cents": 1200})

    app = web.Application()
    app.router.add_get("/products/7", product)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def with_httpx(base: str) -> None:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, timeout=5.0, limits=limits) as client:

        async def one() -> None:
            reply = await client.get("/products/7")
            reply.raise_for_status()

        await _many(one)


async def with_aiohttp(base: str) -> None:
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=5.0)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:

        async def one() -> None:
            async with session.get("/products/7") as reply:
                reply.raise_for_status()
                await reply.read()

        await _many(one)


async def _many(one: Callable[[], Awaitable[None]]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def bounded() -> None:
        async with gate:
            await one()

    await asyncio.gather(*(bounded() for _ in range(REQUESTS)))


def cpu_per_request(client: Callable[[str], Awaitable[None]], base: str) -> float:
    asyncio.run(client(base))  # once to warm up: imports, first connections
    started = time.process_time()
    asyncio.run(client(base))
    return (time.process_time() - started) / REQUESTS


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def main() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(port,), daemon=True)
    server.start()
    try:
        wait_for(port)
        base = f"http://127.0.0.1:{port}"
        print(f"{REQUESTS} GETs, {CONCURRENCY} in flight, client CPU time per request:")
        for name, client in (("httpx", with_httpx), ("aiohttp", with_aiohttp)):
            print(f"  {name:8s} {cpu_per_request(client, base) * 1e6:6.0f} µs")
        print("The gap is what made the shop's gateway move from httpx to aiohttp (05.9).")
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()

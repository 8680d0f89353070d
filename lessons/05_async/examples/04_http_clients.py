"""httpx and aiohttp clients against a local aiohttp server: a semaphore, timeouts, peak load.

The script starts its own server on 127.0.0.1 (a free port), calls it, prints, and stops.
Run: uv run python lessons/05_async/examples/04_http_clients.py
"""

import asyncio
import time

import aiohttp
import httpx
from aiohttp import web

in_flight = peak = 0


async def item(request: web.Request) -> web.Response:
    global in_flight, peak
    in_flight += 1
    peak = max(peak, in_flight)
    try:
        await asyncio.sleep(0.1)  # a slow upstream: 100 ms per request
        return web.json_response({"id": int(request.match_info["id"])})
    finally:
        in_flight -= 1


async def hang(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.json_response({})


async def with_httpx(base: str, limit: int) -> list[int]:
    semaphore = asyncio.Semaphore(limit)  # at most `limit` requests in flight

    async def get(client: httpx.AsyncClient, i: int) -> int:
        async with semaphore:
            response = await client.get(f"/items/{i}")
            response.raise_for_status()
            return response.json()["id"]

    # One client for all requests: it keeps a pool of connections to reuse.
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(2.0)) as client:
        return await asyncio.gather(*(get(client, i) for i in range(20)))


async def with_aiohttp(base: str, limit: int) -> list[int]:
    # aiohttp bounds concurrency in its connector (connections per session).
    connector = aiohttp.TCPConnector(limit=limit)
    timeout = aiohttp.ClientTimeout(total=2.0)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:

        async def get(i: int) -> int:
            async with session.get(f"/items/{i}") as response:
                response.raise_for_status()
                return (await response.json())["id"]

        return await asyncio.gather(*(get(i) for i in range(20)))


async def main() -> None:
    global peak
    app = web.Application()
    app.router.add_get("/items/{id}", item)
    app.router.add_get("/hang", hang)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)  # port 0: the OS picks a free port
    await site.start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    print(f"server on {base}")
    try:
        for name, client in (("httpx", with_httpx), ("aiohttp", with_aiohttp)):
            peak = 0
            started = time.perf_counter()
            ids = await client(base, limit=5)
            elapsed = time.perf_counter() - started
            print(
                f"{name:8} 20 requests, limit 5: {elapsed:.2f}s, peak in flight {peak}, ids ok: "
                f"{ids == list(range(20))}"
            )
        print("  20 x 100 ms at 5 at a time ~ 0.4 s; one at a time it would be ~ 2 s")

        async with httpx.AsyncClient(base_url=base) as client:
            try:
                async with asyncio.timeout(0.2):
                    await client.get("/hang")
            except TimeoutError:
                print("httpx    /hang cut off by asyncio.timeout(0.2)")
            try:
                await client.get("/hang", timeout=0.2)
            except httpx.ReadTimeout as error:
                print(f"httpx    /hang cut off by httpx's read timeout: {type(error).__name__}")
    finally:
        await runner.cleanup()
        print("server stopped")


if __name__ == "__main__":
    asyncio.run(main())

"""05.1 fetch_all (httpx) and fetch_all_aiohttp: a concurrency limit, per-request timeouts,
and failures as results. Every test runs against both; its id says which."""

from __future__ import annotations

import asyncio
import time

import pytest

from journey.targets import load

fetch_many = load(__file__, "fetch_many")

FLAVOURS = ["httpx", "aiohttp"]


def _fetch(flavour: str):
    return fetch_many.fetch_all if flavour == "httpx" else fetch_many.fetch_all_aiohttp


def _app(gauge, delay: float = 0.0):
    from aiohttp import web

    async def number(request: web.Request) -> web.Response:
        async with gauge.held():
            if delay:
                await asyncio.sleep(delay)  # a slow server: holds the request open a moment
            return web.Response(text=f"page {request.match_info['n']}")

    async def hang(request: web.Request) -> web.Response:
        await gauge.hold_forever()
        return web.Response(text="too late")

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="status page")

    app = web.Application()
    app.router.add_get("/n/{n}", number)
    app.router.add_get("/hang", hang)
    app.router.add_get("/status/{code}", status)
    return app


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_results_come_back_in_input_order(serve, gauge, flavour: str) -> None:
    async def main() -> list:
        g = gauge()
        async with serve(_app(g)) as base:
            urls = [f"{base}/n/{n}" for n in range(8)]
            return await _fetch(flavour)(urls, limit=4, timeout=5)

    results = asyncio.run(main())
    assert [r.body for r in results] == [f"page {n}" for n in range(8)], (
        "one result per URL, in the order of the URLs given (not in order of completion)"
    )
    assert all(r.status == 200 and r.error is None for r in results), "every page answered 200"
    assert all(r.url.endswith(f"/n/{n}") for n, r in enumerate(results)), (
        "each result keeps its url"
    )


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("limit", [1, 3])
def test_concurrency_reaches_the_limit_and_never_exceeds_it(
    serve, gauge, flavour: str, limit: int
) -> None:
    async def main():
        # The server holds the first requests until `limit` are in flight at once.
        g = gauge(gate=limit)
        async with serve(_app(g)) as base:
            urls = [f"{base}/n/{n}" for n in range(12)]
            results = await _fetch(flavour)(urls, limit=limit, timeout=5)
        return g, results

    g, results = asyncio.run(main())
    assert g.total == 12, f"every URL is requested exactly once, the server saw {g.total}"
    assert g.peak <= limit, (
        f"limit={limit} allows at most {limit} requests in flight, the server saw {g.peak}"
    )
    assert g.peak == limit, (
        f"the requests should overlap up to the limit ({limit} at once), the peak was only "
        f"{g.peak}: start them concurrently (gather or a TaskGroup), and let the semaphore hold "
        "back the rest"
    )
    assert all(r.ok for r in results)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_hung_request_times_out_without_failing_the_batch(serve, gauge, flavour: str) -> None:
    async def main():
        g = gauge()
        async with serve(_app(g), release=g.release) as base:
            urls = [f"{base}/hang", f"{base}/n/1", f"{base}/hang", f"{base}/n/2"]
            started = time.perf_counter()
            results = await _fetch(flavour)(urls, limit=4, timeout=0.3)
            return results, time.perf_counter() - started

    results, elapsed = asyncio.run(main())
    assert [r.error for r in results] == [fetch_many.TIMEOUT, None, fetch_many.TIMEOUT, None], (
        "a request past its deadline becomes a result with error == TIMEOUT; the others succeed"
    )
    assert (results[0].status, results[0].body) == (None, None), "a timed-out URL has no response"
    assert results[1].body == "page 1"
    assert results[3].body == "page 2"
    assert elapsed < 3, f"with timeout=0.3 the batch should end quickly, it took {elapsed:.1f}s"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_http_errors_and_refused_connections_are_results(
    serve, gauge, closed_port, flavour: str
) -> None:
    async def main():
        async with serve(_app(gauge())) as base:
            urls = [f"{base}/status/500", f"{base}/status/404", f"http://127.0.0.1:{closed_port}/x"]
            return await _fetch(flavour)(urls, limit=2, timeout=5)

    server_error, missing, refused = asyncio.run(main())
    assert (server_error.status, server_error.error) == (500, None), (
        "a 500 is still a response: status 500, no error"
    )
    assert server_error.ok is False
    assert (missing.status, missing.body) == (404, "status page"), "a 404 is a response too"
    assert refused.status is None, "nobody listens on that port: there is no status"
    assert refused.error, "a refused connection is an error result that says what went wrong"
    assert refused.error != fetch_many.TIMEOUT, (
        "a refused connection is an error result that says what went wrong (not a timeout)"
    )


BAD_URLS = ["http://127.0.0.1:99999/", "not a url", "ftp://127.0.0.1/file", "http://"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_urls_that_cannot_be_fetched_are_results(serve, gauge, flavour: str) -> None:
    async def main():
        async with serve(_app(gauge())) as base:
            urls = [f"{base}/n/1", *BAD_URLS, f"{base}/n/2"]
            return await _fetch(flavour)(urls, timeout=5)

    try:
        before, *bad, after = asyncio.run(main())
    except BaseException as error:
        raise AssertionError(
            f"one of {BAD_URLS} crashed the whole batch with {error!r}: a bad URL must become "
            "its own result (error starting with INVALID_URL) while the others are fetched"
        ) from error
    assert (before.body, after.body) == ("page 1", "page 2"), "the other URLs are fetched"
    for url, result in zip(BAD_URLS, bad, strict=True):
        assert result.status is None
        assert result.error is not None, f"{url!r} is an error result"
        assert result.error.startswith(fetch_many.INVALID_URL), (
            f"{url!r} cannot be fetched at all: its error starts with INVALID_URL, got "
            f"{result.error!r}"
        )


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_waiting_for_a_slot_does_not_count_against_the_timeout(serve, gauge, flavour: str) -> None:
    async def main():
        g = gauge()
        # Each request takes ~0.05 s; with limit=1 the last one waits ~0.45 s for its turn.
        async with serve(_app(g, delay=0.05)) as base:
            urls = [f"{base}/n/{n}" for n in range(10)]
            return g, await _fetch(flavour)(urls, limit=1, timeout=0.3)

    g, results = asyncio.run(main())
    assert g.peak == 1, "limit=1 means one request at a time"
    assert [r.error for r in results] == [None] * 10, (
        "the per-request timeout starts when the request gets a slot: wrap only the request "
        "in asyncio.timeout, inside `async with semaphore`"
    )


def test_a_shared_httpx_client_is_left_open(serve, gauge) -> None:
    import httpx

    async def main():
        async with serve(_app(gauge())) as base, httpx.AsyncClient() as client:
            results = await fetch_many.fetch_all([f"{base}/n/7"], limit=1, timeout=5, client=client)
            return results, client.is_closed

    results, closed = asyncio.run(main())
    assert results[0].body == "page 7"
    assert not closed, "a client passed in belongs to the caller: fetch_all must not close it"


def test_a_shared_aiohttp_session_is_left_open(serve, gauge) -> None:
    import aiohttp

    async def main():
        async with serve(_app(gauge())) as base, aiohttp.ClientSession() as session:
            results = await fetch_many.fetch_all_aiohttp(
                [f"{base}/n/7"], limit=1, timeout=5, session=session
            )
            return results, session.closed

    results, closed = asyncio.run(main())
    assert results[0].body == "page 7"
    assert not closed, "a session passed in belongs to the caller: do not close it"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_its_own_client_is_closed_before_returning(
    serve, gauge, track_clients, flavour: str
) -> None:
    import aiohttp
    import httpx

    opened = track_clients(httpx.AsyncClient if flavour == "httpx" else aiohttp.ClientSession)

    async def main():
        async with serve(_app(gauge())) as base:
            results = await _fetch(flavour)([f"{base}/n/1", f"{base}/n/2"], limit=2, timeout=5)
            return results, opened.unclosed()

    results, unclosed = asyncio.run(main())
    assert [r.body for r in results] == ["page 1", "page 2"]
    assert opened.clients, "without a client passed in, the function opens its own"
    assert not unclosed, (
        "the client the function opened is still open after it returned: its connections stay "
        "open too. Open it with `async with` (or an AsyncExitStack) so it is always closed"
    )


def test_no_urls_gives_no_results() -> None:
    assert asyncio.run(fetch_many.fetch_all([], limit=3, timeout=1)) == []
    assert asyncio.run(fetch_many.fetch_all_aiohttp([], limit=3, timeout=1)) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_bad_limits_are_rejected(flavour: str) -> None:
    for limit, timeout in [(0, 1.0), (-1, 1.0), (2, 0.0), (2, -1.0)]:
        with pytest.raises(ValueError):  # noqa: PT011 - the type is the contract
            asyncio.run(_fetch(flavour)(["http://127.0.0.1:9/"], limit=limit, timeout=timeout))

"""05.8 crawl: breadth-first over one local site, with depth and concurrency limits."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from journey.targets import load

crawler = load(__file__, "crawler")


def _links(*hrefs: str) -> str:
    return "<html><body>" + "".join(f'<a href="{h}">{h}</a>' for h in hrefs) + "</body></html>"


def _site(pages: dict[str, str], gauge, seen: Counter, hosts: set[str]):
    """An aiohttp app serving `pages` (path -> html); everything else is a 404."""
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        seen[request.path] += 1
        hosts.add(request.host)
        if request.path == "/":  # the start page is fetched alone: no point holding it
            return web.Response(text=pages["/"], content_type="text/html")
        async with gauge.held():
            if request.path == "/data.json":
                # JSON that happens to hold HTML: its "link" is data, not a page to follow
                return web.json_response({"html": "<a href='/never'>never</a>"})
            if request.path not in pages:
                return web.Response(status=404, text="not here")
            return web.Response(text=pages[request.path], content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


def _shop_site(port_holder: dict) -> dict[str, str]:
    return {
        "/": _links(
            "/a",
            "/b",
            "b",
            "/a#reviews",
            "/missing",
            "/data.json",
            "mailto:shop@example.com",
            f"http://localhost:{port_holder['port']}/offsite",  # same machine, another host name
            f"http://127.0.0.1:{port_holder['other']}/elsewhere",  # same host, another port
        ),
        "/a": _links("/a/1", "/a/2", "/", "/b"),
        "/b": _links("/b/1", "#top"),
        "/a/1": _links("/a/1/deep"),
        "/a/2": _links(),
        "/b/1": _links("/a/1"),
        "/a/1/deep": _links(),
        "/offsite": _links(),
    }


def test_extract_links_resolves_dedupes_and_filters() -> None:
    html = (
        '<p><a href="/x">x</a> <A HREF="y?q=1">y</A> <a name="anchor">no href</a>'
        '<a href="/x#part">again</a> <a href="mailto:me@example.com">mail</a>'
        "<a href='javascript:void(0)'>js</a> <a href=\"https://other.test/z\">z</a></p>"
    )
    assert crawler.extract_links(html, "http://site.test/dir/page") == [
        "http://site.test/x",
        "http://site.test/dir/y?q=1",
        "https://other.test/z",
    ], (
        "absolute http(s) URLs resolved against the page, without #fragments, each once, in "
        "order; mailto: and javascript: are not pages"
    )


def test_crawl_respects_depth_dedupes_and_stays_on_the_site(serve, gauge, closed_port) -> None:
    seen: Counter = Counter()
    hosts: set[str] = set()
    holder: dict = {"other": closed_port}

    async def main():
        pages: dict[str, str] = {}
        async with serve(_site(pages, gauge(), seen, hosts)) as base:
            holder["port"] = base.rsplit(":", 1)[1]
            pages.update(_shop_site(holder))
            return base, await crawler.crawl(f"{base}/", max_depth=2, concurrency=3, timeout=5)

    base, result = asyncio.run(main())
    expected = {"/": 0, "/a": 1, "/b": 1, "/data.json": 1, "/a/1": 2, "/a/2": 2, "/b/1": 2}
    assert result.pages == {base + path: depth for path, depth in expected.items()}, (
        "every page up to depth 2, each with the smallest depth it is linked at"
    )
    other_port = [url for url in [*result.pages, *result.errors] if f":{closed_port}/" in url]
    assert not other_port, (
        f"{other_port[0] if other_port else ''} was requested: another port on the same host is "
        "another site; compare scheme, host AND port with the start URL's"
    )
    assert result.errors == {f"{base}/missing": "HTTP 404"}, "a 404 is recorded as 'HTTP 404'"
    assert seen["/a/1/deep"] == 0, "a depth-3 page is never requested when max_depth=2"
    assert seen["/never"] == 0, "links are read from text/html pages only, not from JSON"
    assert {p: n for p, n in seen.items() if n > 1} == {}, (
        "each URL is requested once: '/b', 'b' and '/a#reviews' are pages already seen"
    )
    assert seen["/offsite"] == 0, "a link to another host is never followed"
    assert hosts == {base.removeprefix("http://")}, (
        "only URLs with the start page's scheme, host and port are fetched "
        "(localhost is another host name than 127.0.0.1)"
    )


def test_max_depth_zero_fetches_only_the_start_page(serve, gauge) -> None:
    seen: Counter = Counter()

    async def main():
        pages = {"/": _links("/a"), "/a": _links()}
        async with serve(_site(pages, gauge(), seen, set())) as base:
            return base, await crawler.crawl(f"{base}/", max_depth=0, concurrency=2)

    base, result = asyncio.run(main())
    assert result.pages == {f"{base}/": 0}
    assert seen["/a"] == 0, "max_depth=0: not a single link is followed"


def test_concurrency_reaches_the_limit_and_never_exceeds_it(serve, gauge) -> None:
    children = [f"/p{i}" for i in range(10)]
    pages = {"/": _links(*children)} | {c: _links(f"{c}/leaf") for c in children}
    pages |= {f"{c}/leaf": _links() for c in children}
    seen: Counter = Counter()

    async def main():
        g = gauge(gate=3)  # holds the first requests until 3 are in flight at once
        async with serve(_site(pages, g, seen, set())) as base:
            result = await crawler.crawl(f"{base}/", max_depth=2, concurrency=3, timeout=5)
        return g, result

    g, result = asyncio.run(main())
    assert len(result.pages) == 21, "the root, 10 children and 10 leaves"
    assert g.peak <= 3, f"concurrency=3 allows 3 requests in flight, the server saw {g.peak}"
    assert g.peak == 3, (
        f"pages of one level should be fetched concurrently (up to 3), the peak was {g.peak}"
    )


def test_concurrency_one_fetches_one_page_at_a_time(serve, gauge) -> None:
    pages = {"/": _links("/a", "/b", "/c")} | {p: _links() for p in ("/a", "/b", "/c")}

    async def main():
        g = gauge()
        async with serve(_site(pages, g, Counter(), set())) as base:
            result = await crawler.crawl(f"{base}/", max_depth=1, concurrency=1, timeout=5)
        return g, result

    g, result = asyncio.run(main())
    assert len(result.pages) == 4, "concurrency=1 is allowed: the whole site, one at a time"
    assert g.peak == 1, f"concurrency=1 allows one request in flight, the server saw {g.peak}"


def test_a_client_passed_in_is_used_and_left_open(serve, gauge) -> None:
    import httpx

    pages = {"/": _links("/a"), "/a": _links()}

    async def main():
        async with (
            serve(_site(pages, gauge(), Counter(), set())) as base,
            httpx.AsyncClient() as client,
        ):
            result = await crawler.crawl(f"{base}/", max_depth=1, client=client)
            return base, result, client.is_closed

    base, result, closed = asyncio.run(main())
    assert result.pages == {f"{base}/": 0, f"{base}/a": 1}, (
        "with a client passed in, crawl uses it and returns what it found"
    )
    assert not closed, "a client passed in belongs to the caller: crawl must not close it"


def test_its_own_client_is_closed(serve, gauge, track_clients) -> None:
    import httpx

    opened = track_clients(httpx.AsyncClient)
    pages = {"/": _links("/a"), "/a": _links()}

    async def main():
        async with serve(_site(pages, gauge(), Counter(), set())) as base:
            result = await crawler.crawl(f"{base}/", max_depth=1)
            return result, opened.unclosed()

    result, unclosed = asyncio.run(main())
    assert len(result.pages) == 2
    assert opened.clients, "without a client passed in, crawl opens its own"
    assert not unclosed, "crawl's own client is closed before it returns (async with)"


def test_a_hung_page_times_out_and_the_crawl_goes_on(serve, gauge) -> None:
    from aiohttp import web

    g = None

    async def main():
        nonlocal g
        g = gauge()

        async def root(request: web.Request) -> web.Response:
            return web.Response(text=_links("/slow", "/fast"), content_type="text/html")

        async def slow(request: web.Request) -> web.Response:
            await g.hold_forever()
            return web.Response(text="late", content_type="text/html")

        async def fast(request: web.Request) -> web.Response:
            return web.Response(text=_links(), content_type="text/html")

        app = web.Application()
        app.router.add_get("/", root)
        app.router.add_get("/slow", slow)
        app.router.add_get("/fast", fast)
        async with serve(app, release=g.release) as base:
            async with asyncio.timeout(5):
                result = await crawler.crawl(f"{base}/", max_depth=1, concurrency=2, timeout=0.3)
            return base, result

    base, result = asyncio.run(main())
    assert result.errors == {f"{base}/slow": "timeout"}, "a page past its timeout is 'timeout'"
    assert result.pages == {f"{base}/": 0, f"{base}/fast": 1}


@pytest.mark.parametrize(("max_depth", "concurrency"), [(-1, 2), (1, 0)])
def test_bad_limits_are_rejected(max_depth: int, concurrency: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        asyncio.run(
            crawler.crawl("http://127.0.0.1:9/", max_depth=max_depth, concurrency=concurrency)
        )

"""Stops one level early: pages at exactly max_depth are never fetched.

05.8 An async crawler of one site, with depth and concurrency limits (core).

A crawler is a breadth-first search whose edges are links: start at one page, fetch it, find
its links, fetch those, and so on. Done concurrently, it needs the same care as any fan-out:
a semaphore bounds the requests in flight, a `seen` set makes sure each URL is fetched once,
a depth limit bounds the search, and an origin check keeps it on one site.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx


@dataclass
class CrawlResult:
    """`pages`: URL -> depth (the start page is 0) of every page fetched with a 2xx answer.
    `errors`: URL -> what went wrong: "HTTP <status>" for 4xx/5xx answers, "timeout", or a
    short description of a transport error."""

    pages: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":  # HTMLParser lowercases tag and attribute names
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def extract_links(html: str, base_url: str) -> list[str]:
    """The targets of the `<a href="...">` links in `html`, as absolute URLs.

    Relative links are resolved against `base_url` (urllib.parse.urljoin); the #fragment is
    dropped ("/a#top" is the page "/a"); only http and https URLs are kept (no mailto:,
    javascript:, ...); each URL appears once, in order of first appearance.
    """
    parser = _LinkParser()
    parser.feed(html)
    links: dict[str, None] = {}  # a dict keeps insertion order: an ordered set
    for href in parser.hrefs:
        url, _fragment = urldefrag(urljoin(base_url, href.strip()))
        if urlsplit(url).scheme in ("http", "https"):
            links.setdefault(url, None)
    return list(links)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


async def crawl(
    start_url: str,
    *,
    max_depth: int = 2,
    concurrency: int = 4,
    timeout: float = 5.0,
    client: httpx.AsyncClient | None = None,
) -> CrawlResult:
    """Crawls the site of `start_url` breadth-first and returns what it found.

    - Depth: the start page has depth 0, a page first linked from a depth-d page has depth
      d + 1; pages deeper than `max_depth` are never requested. Each page is recorded with
      the smallest depth at which it was found (crawl level by level).
    - Each URL (without its #fragment) is requested at most once.
    - Only URLs with the same scheme, host and port as `start_url` are requested.
    - At most `concurrency` requests are in flight at once; each request has `timeout` seconds.
    - Links are read only from 2xx answers whose Content-Type is text/html.
    - A failing page is recorded in `errors` and the crawl goes on.
    - `max_depth < 0` or `concurrency < 1` is a ValueError (0 and 1 are fine).
    - `client`: an httpx.AsyncClient to crawl with (left open); without one, crawl opens its
      own and closes it before returning.
    """
    if max_depth < 0:
        raise ValueError(f"max_depth must not be negative, got {max_depth}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if client is None:
        async with httpx.AsyncClient() as own:
            return await _crawl(start_url, max_depth, concurrency, timeout, own)
    return await _crawl(start_url, max_depth, concurrency, timeout, client)


async def _crawl(
    start_url: str, max_depth: int, concurrency: int, timeout: float, client: httpx.AsyncClient
) -> CrawlResult:
    origin = _origin(start_url)
    start, _ = urldefrag(start_url)
    seen = {start}
    frontier = [start]
    result = CrawlResult()
    semaphore = asyncio.Semaphore(concurrency)

    async def fetch(url: str) -> str | None:
        """The page's HTML ("" if it is not HTML), or None after recording an error."""
        async with semaphore:
            try:
                async with asyncio.timeout(timeout):
                    response = await client.get(url)
            except (TimeoutError, httpx.TimeoutException):
                result.errors[url] = "timeout"
                return None
            except httpx.HTTPError as error:
                result.errors[url] = f"{type(error).__name__}: {error}"
                return None
        if response.status_code >= 400:
            result.errors[url] = f"HTTP {response.status_code}"
            return None
        is_html = response.headers.get("content-type", "").startswith("text/html")
        return response.text if is_html else ""

    # Level by level: a whole depth is fetched (concurrently) before the next one starts, so
    # every page gets the smallest depth it can be reached at.
    for depth in range(max_depth):
        if not frontier:
            break
        pages = await asyncio.gather(*(fetch(url) for url in frontier))
        next_frontier: list[str] = []
        for url, html in zip(frontier, pages, strict=True):
            if html is None:
                continue
            result.pages[url] = depth
            if depth == max_depth:
                continue  # its links would be too deep: do not even collect them
            for link in extract_links(html, url):
                if _origin(link) == origin and link not in seen:
                    seen.add(link)
                    next_frontier.append(link)
        frontier = next_frontier
    return result

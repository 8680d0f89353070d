"""05.8 An async crawler of one site, with depth and concurrency limits (core).

A crawler is a breadth-first search whose edges are links: start at one page, fetch it, find
its links, fetch those, and so on. Done concurrently, it needs the same care as any fan-out:
a semaphore bounds the requests in flight, a `seen` set makes sure each URL is fetched once,
a depth limit bounds the search, and an origin check keeps it on one site.
"""

from __future__ import annotations

import asyncio  # noqa: F401 - you will need it
from dataclasses import dataclass, field
from html.parser import HTMLParser  # noqa: F401 - you will need it
from urllib.parse import urldefrag, urljoin, urlsplit  # noqa: F401 - you will need them

import httpx


@dataclass
class CrawlResult:
    """`pages`: URL -> depth (the start page is 0) of every page fetched with a 2xx answer.
    `errors`: URL -> what went wrong: "HTTP <status>" for 4xx/5xx answers, "timeout", or a
    short description of a transport error."""

    pages: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def extract_links(html: str, base_url: str) -> list[str]:
    """The targets of the `<a href="...">` links in `html`, as absolute URLs.

    Relative links are resolved against `base_url` (urllib.parse.urljoin); the #fragment is
    dropped ("/a#top" is the page "/a"); only http and https URLs are kept (no mailto:,
    javascript:, ...); each URL appears once, in order of first appearance.
    """
    raise NotImplementedError("05.8: collect <a href> with an HTMLParser, resolve and dedupe")


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
    raise NotImplementedError("05.8: crawl level by level, gather under a Semaphore")

"""The gateway's own small cache of product reads (lesson 04: caching; RFC 9111: HTTP caching).

A product read through the gateway costs two hops: the gateway, then the catalog, which answers
from Redis. The catalog marks such answers as cacheable by a *shared* cache for a moment
(``Cache-Control: s-maxage=1``), and the gateway is such a cache: it keeps the answer in its own
memory for that long and serves repeated reads of the product without the second hop. That is
*micro-caching*: under load the same product is read hundreds of times a second, so even a second
saves nearly all the catalog calls, and no reader sees a price more than a second old.

What keeps it correct:

- only a ``200`` whose ``Cache-Control`` says ``s-maxage`` (or ``max-age``) is stored, for that
  many seconds; ``no-store``/``private`` answers never are;
- a successful write of products *through this gateway* empties the cache at once (RFC 9111,
  4.4: a cache invalidates after an unsafe request), so a client reads its own writes;
- a read that was already on its way when a write emptied the cache may come back with the old
  product: it is not stored. Each write bumps a *generation*, and an answer is stored only if the
  generation has not moved since its request was sent (the same trick as the catalog's Redis
  cache, lesson 04);
- the cache holds at most ``max_entries`` answers; the oldest goes first;
- when an entry expires under load, dozens of readers miss it at the same moment: only the first
  calls the catalog, and the others wait for its answer (:meth:`ResponseCache.read_through`,
  "single flight"), instead of all going to the catalog at once and making up the slowest
  percentile of reads.

A write that does not pass through this gateway (another gateway instance, a direct call to the
catalog) is seen once the entry expires: at most ``s-maxage`` seconds later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Response

from capstone.contracts import headers

DEFAULT_MAX_ENTRIES = 10_000


def shared_max_age(cache_control: str | None) -> float | None:
    """How long a shared cache may keep an answer, from its ``Cache-Control`` header: the
    ``s-maxage`` (else ``max-age``) in seconds; None when it may not be stored at all."""
    if not cache_control:
        return None
    directives: dict[str, str] = {}
    for part in cache_control.lower().split(","):
        name, _, value = part.strip().partition("=")
        directives[name] = value.strip('"')
    if "no-store" in directives or "private" in directives or "no-cache" in directives:
        return None
    for name in ("s-maxage", "max-age"):
        if name in directives:
            try:
                seconds = int(directives[name])
            except ValueError:
                return None
            return float(seconds) if seconds > 0 else None
    return None


@dataclass(frozen=True)
class _Answer:
    """One fetched answer, from which each reader waiting for it gets a response of its own (a
    response object is sent once: the middleware adds that request's headers to it)."""

    status_code: int
    body: bytes
    media_type: str | None
    headers: dict[str, str]

    @classmethod
    def of(cls, response: Response) -> _Answer:
        own = {"content-length", "content-type"}  # set again by each new response
        headers = {k: v for k, v in response.headers.items() if k not in own}
        return cls(
            response.status_code,
            bytes(response.body),
            response.headers.get("content-type"),
            headers,
        )

    def response(self, replaced: dict[str, str] | None = None) -> Response:
        """A new response; ``replaced`` headers (lower-case names, as kept) override the kept."""
        headers = self.headers | (replaced or {})
        return Response(self.body, self.status_code, headers=headers, media_type=self.media_type)


@dataclass(frozen=True)
class _Entry:
    answer: _Answer
    stored_at: float
    expires_at: float


class ResponseCache:
    """Answers kept in memory by path, for as long as their ``Cache-Control`` allows."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._fetching: dict[str, asyncio.Future[_Answer]] = {}
        self.generation = 0  # bumped by every write: answers from before it are not stored

    async def read_through(self, path: str, fetch: Callable[[], Awaitable[Response]]) -> Response:
        """The kept answer for ``path``; else ``fetch()``'s, kept if it may be. Readers that miss
        while a fetch of ``path`` is on its way wait for that one instead of fetching again."""
        if (kept := self.get(path)) is not None:
            return kept
        fetching = self._fetching.get(path)
        if fetching is None:
            fetching = asyncio.ensure_future(self._fetch(path, fetch, self.generation))
            self._fetching[path] = fetching
            fetching.add_done_callback(lambda done: self._fetched(path, done))
        # shielded: a reader that gives up (its client left) does not cancel the others' fetch
        answer = await asyncio.shield(fetching)
        return answer.response()

    async def _fetch(
        self, path: str, fetch: Callable[[], Awaitable[Response]], generation: int
    ) -> _Answer:
        answer = _Answer.of(await fetch())
        self._keep(path, answer, generation)
        return answer

    def _fetched(self, path: str, done: asyncio.Future[_Answer]) -> None:
        if self._fetching.get(path) is done:
            del self._fetching[path]
        if not done.cancelled():
            done.exception()  # retrieved here: every waiter gets it raised, none may be left

    def get(self, path: str) -> Response | None:
        """The stored answer for ``path`` while it is fresh, marked as a cache hit with its
        ``Age``; None otherwise."""
        entry = self._entries.get(path)
        if entry is None:
            return None
        now = self._clock()
        if now >= entry.expires_at:
            del self._entries[path]
            return None
        age = str(int(now - entry.stored_at))
        return entry.answer.response({headers.CACHE.lower(): "hit", "age": age})

    def store(self, path: str, answer: Response, *, generation: int) -> None:
        """Keeps ``answer`` if it is a cacheable 200 and no write happened since ``generation``
        (the value of :attr:`generation` when its request was sent)."""
        self._keep(path, _Answer.of(answer), generation)

    def _keep(self, path: str, answer: _Answer, generation: int) -> None:
        if answer.status_code != 200 or generation != self.generation:
            return
        seconds = shared_max_age(answer.headers.get("cache-control"))
        if seconds is None:
            return
        if path not in self._entries and len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]  # dicts keep insertion order: the oldest
        now = self._clock()
        self._entries[path] = _Entry(answer, now, now + seconds)

    def clear(self) -> None:
        """Forgets every answer, and any answer still on its way: after a write. (Readers
        already waiting for a fetch get its answer; the next ones fetch again.)"""
        self._entries.clear()
        self._fetching.clear()
        self.generation += 1

    def __len__(self) -> int:
        return len(self._entries)

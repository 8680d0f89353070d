"""12.7 Graceful degradation: serve a stale copy when the database is down (core).

A product page that is a minute old is far better than an error page. When the database is
down, a read service can keep answering from its cache, marked as stale, and only fail when it
has nothing at all to give. When the *cache* is down, it reads the database directly. Only when
both are gone does it answer 503, with a `Retry-After` that spreads the clients out: never 500.

Every cached entry remembers when it was loaded (`stored_at`, on the injected `clock`):

```
age <= fresh_seconds   served from the cache, the database is not asked       "hit"
older                  the database is asked; its answer is served and cached   "miss"
  database down and age <= stale_seconds: the cached copy is served           "stale"
  database down and nothing (young enough) cached: Unavailable -> 503
```
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random as random_module
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import psycopg
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from .backoff import jittered_retry_after

if TYPE_CHECKING:
    from redis.asyncio import Redis

Clock = Callable[[], float]
Loader = Callable[[], Awaitable[Any]]
Source = Literal["cache", "database", "stale"]

# What "the database cannot answer" looks like: refused or broken connections, and timeouts.
# A SQL error (psycopg.ProgrammingError...) is a bug, not an outage: it is not in this list.
DATABASE_DOWN: tuple[type[BaseException], ...] = (psycopg.OperationalError, OSError, TimeoutError)
CACHE_DOWN: tuple[type[BaseException], ...] = (RedisError, OSError)
PROBLEM_JSON = "application/problem+json"


class Unavailable(Exception):
    """Neither the database nor the cache can answer (given). A service answers 503."""


@dataclass(frozen=True)
class Read:
    """A value and where it came from: "cache" (fresh), "database", or "stale" (given).

    `age` is how many seconds ago the value was loaded from the database (0 when it just was).
    """

    value: Any
    source: Source
    age: float


class StaleCache:
    """A read-through cache in Redis that serves stale entries while the database is down.

    `await cache.get("product:7", load)`, where `load()` reads the database and returns a
    JSON-serialisable value (None is a value too: "not found" is cached like any answer).

    - The entry lives in Redis at `f"{prefix}:{key}"` as JSON `{"value": ..., "stored_at": ...}`
      with a Redis expiry of `ceil(stale_seconds)` seconds (a copy too old to serve even as
      stale is no use to keep).
    - Fresh entry (`clock() - stored_at <= fresh_seconds`): `Read(value, "cache", age)`,
      without calling `load`.
    - Otherwise call `load()` under `asyncio.timeout(load_timeout)`. On success, store the
      entry (stored_at = `clock()`) and return `Read(value, "database", 0.0)`.
    - When `load` raises one of `database_errors` (or takes longer than `load_timeout`): if an
      entry with `age <= stale_seconds` was found, return `Read(value, "stale", age)`;
      otherwise raise Unavailable (from the database's error). Any other exception from `load`
      is a bug, not an outage: it goes on up unchanged.
    - Redis errors (`redis.exceptions.RedisError`, OSError) never fail a read: with the cache
      down, the value comes from the database (and is not stored).
    - `fresh_seconds < 0`, `stale_seconds < fresh_seconds` or `load_timeout <= 0` is a
      ValueError.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        fresh_seconds: float,
        stale_seconds: float,
        load_timeout: float = 2.0,
        database_errors: tuple[type[BaseException], ...] = DATABASE_DOWN,
        clock: Clock = time.time,
    ) -> None:
        if fresh_seconds < 0:
            raise ValueError(f"fresh_seconds must not be negative, got {fresh_seconds}")
        if stale_seconds < fresh_seconds:
            raise ValueError("stale_seconds must be at least fresh_seconds")
        if load_timeout <= 0:
            raise ValueError(f"load_timeout must be positive, got {load_timeout}")
        self.redis = redis
        self.prefix = prefix
        self.fresh_seconds = fresh_seconds
        self.stale_seconds = stale_seconds
        self.load_timeout = load_timeout
        self.database_errors = database_errors
        self.clock = clock
        # a load slower than load_timeout is an outage too, whatever database_errors says
        self._outages: tuple[type[BaseException], ...] = (TimeoutError, *database_errors)

    async def get(self, key: str, load: Loader) -> Read:
        redis_key = f"{self.prefix}:{key}"
        cache_up = True
        entry: dict[str, Any] | None = None
        try:
            raw = await self.redis.get(redis_key)
        except CACHE_DOWN:
            cache_up, raw = False, None
        if raw is not None:
            entry = json.loads(raw)
            age = self.clock() - entry["stored_at"]
            if age <= self.fresh_seconds:
                return Read(entry["value"], "cache", age)
        try:
            async with asyncio.timeout(self.load_timeout):
                value = await load()
        except self._outages as error:
            if entry is not None:
                age = self.clock() - entry["stored_at"]
                if age <= self.stale_seconds:
                    return Read(entry["value"], "stale", age)
            raise Unavailable(f"the database is down and no copy of {key!r} is cached") from error
        if cache_up:
            stored = json.dumps({"value": value, "stored_at": self.clock()})
            # the cache may have gone down meanwhile: the answer is still good
            with contextlib.suppress(*CACHE_DOWN):
                await self.redis.set(redis_key, stored, ex=max(1, math.ceil(self.stale_seconds)))
        return Read(value, "database", 0.0)


def create_app(
    cache: StaleCache,
    load_product: Callable[[int], Awaitable[dict[str, Any] | None]],
    *,
    retry_after: float = 1.0,
    random: Callable[[], float] = random_module.random,
) -> FastAPI:
    """A FastAPI app with one route, `GET /products/{product_id}` (an int), read through
    `cache.get(f"product:{product_id}", lambda: load_product(product_id))`:

    - found: 200, the product as JSON, and a header `X-Cache` of `hit` (fresh from the cache),
      `miss` (from the database) or `stale` (with `Age: <whole seconds>` as well);
    - the value is None: 404 problem+json;
    - Unavailable: **503** problem+json ("Service unavailable") with `Retry-After` from
      `jittered_retry_after(retry_after, random=random)` (12.1: `from .backoff import
      jittered_retry_after`). Never a 500 for an outage.
    """
    app = FastAPI(title="Products, degraded gracefully")
    labels = {"cache": "hit", "database": "miss", "stale": "stale"}

    @app.get("/products/{product_id}")
    async def read_product(product_id: int) -> JSONResponse:
        try:
            read = await cache.get(f"product:{product_id}", lambda: load_product(product_id))
        except Unavailable as error:
            seconds = jittered_retry_after(retry_after, random=random)
            return JSONResponse(
                {
                    "type": "about:blank",
                    "title": "Service unavailable",
                    "status": 503,
                    "detail": str(error),
                },
                status_code=503,
                headers={"Retry-After": str(seconds)},
                media_type=PROBLEM_JSON,
            )
        if read.value is None:
            return JSONResponse(
                {
                    "type": "about:blank",
                    "title": "Not Found",
                    "status": 404,
                    "detail": f"no product {product_id}",
                },
                status_code=404,
                media_type=PROBLEM_JSON,
            )
        headers = {"X-Cache": labels[read.source]}
        if read.source == "stale":
            headers["Age"] = str(math.floor(read.age))
        return JSONResponse(read.value, headers=headers)

    return app

"""12.7 StaleCache: fresh from Redis, else from PostgreSQL, else stale, else 503.

The database and the cache are the real ones. "Down" is made honestly: the loader is pointed
at a port where nothing listens, its connection is terminated by the server, or a lock makes
its query hang; the cache is a Redis client for a closed port.
"""

# No `from __future__ import annotations`: FastAPI evaluates the test app's annotations.
import asyncio
import contextlib
import json

import pytest

from journey.targets import load

stale = load(__file__, "stale_cache")
PATIENCE = 10.0


@pytest.fixture
def products_url(postgres_url: str) -> str:
    """This test's schema, with a products table and two products."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE products (id int PRIMARY KEY, name text, price_cents int)")
        conn.execute("INSERT INTO products VALUES (1, 'Mug', 1200), (2, 'Teapot', 3500)")
    return postgres_url


class Database:
    """Loads products from PostgreSQL; the test can take it down in honest ways."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.calls = 0

    async def load_product(self, product_id: int):
        import psycopg

        self.calls += 1
        async with await psycopg.AsyncConnection.connect(self.url, connect_timeout=5) as conn:
            cursor = await conn.execute(
                "SELECT id, name, price_cents FROM products WHERE id = %s", (product_id,)
            )
            row = await cursor.fetchone()
        return None if row is None else {"id": row[0], "name": row[1], "price": row[2]}

    def go_down(self, closed_port: int) -> None:
        """From now on, connections go to a port where nothing listens: refused at once."""
        self.url = f"postgresql://postgres@127.0.0.1:{closed_port}/postgres"


def set_price(url: str, product_id: int, price: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE products SET price_cents = %s WHERE id = %s", (price, product_id))


async def open_redis(url: str):
    from redis.asyncio import Redis

    return Redis.from_url(url, decode_responses=True)


async def dead_redis(closed_port: int):
    """A Redis client for a port where nothing listens, with redis-py's own retries off."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return Redis(port=closed_port, retry=Retry(NoBackoff(), 0), socket_connect_timeout=2)


def make_cache(redis, redis_space, fake_time, **options):
    options.setdefault("fresh_seconds", 10)
    options.setdefault("stale_seconds", 300)
    return stale.StaleCache(
        redis, prefix=redis_space.key("products"), clock=fake_time.clock, **options
    )


def test_a_miss_loads_and_stores_then_a_hit_skips_the_database(
    products_url, redis_space, fake_time
) -> None:
    db = Database(products_url)

    async def main():
        redis = await open_redis(redis_space.url)
        try:
            cache = make_cache(redis, redis_space, fake_time)
            first = await cache.get("product:1", lambda: db.load_product(1))
            fake_time.advance(4)
            second = await cache.get("product:1", lambda: db.load_product(1))
            return first, second
        finally:
            await redis.aclose()

    first, second = asyncio.run(main())
    assert first.source == "database"
    assert first.value["name"] == "Mug"
    assert first.age == 0.0
    assert second.source == "cache", "4 s old is fresh (fresh_seconds=10): served from Redis"
    assert second.value == first.value
    assert second.age == pytest.approx(4.0), "age is the time since it was loaded"
    assert db.calls == 1, "a fresh entry means no database call"
    key = redis_space.key("products", "product:1")
    stored = json.loads(redis_space.client.get(key))
    assert stored["value"] == first.value, f"the entry is stored at {key} as JSON with its value"
    assert stored["stored_at"] == pytest.approx(1000.0), "and stored_at from the clock"
    assert 0 < redis_space.client.ttl(key) <= 300, "with a Redis expiry of stale_seconds"


def test_an_entry_past_fresh_seconds_is_reloaded(products_url, redis_space, fake_time) -> None:
    db = Database(products_url)

    async def main():
        redis = await open_redis(redis_space.url)
        try:
            cache = make_cache(redis, redis_space, fake_time)
            await cache.get("product:1", lambda: db.load_product(1))
            set_price(products_url, 1, 999)
            fake_time.advance(10.5)
            return await cache.get("product:1", lambda: db.load_product(1))
        finally:
            await redis.aclose()

    read = asyncio.run(main())
    assert read.source == "database", "older than fresh_seconds: ask the database"
    assert read.value["price"] == 999, "and serve (and store) its new answer"


def test_when_the_database_is_down_a_stale_copy_is_served(
    products_url, redis_space, fake_time, closed_port
) -> None:
    db = Database(products_url)

    async def main():
        redis = await open_redis(redis_space.url)
        try:
            cache = make_cache(redis, redis_space, fake_time)
            await cache.get("product:2", lambda: db.load_product(2))
            db.go_down(closed_port)
            fake_time.advance(120)
            return await cache.get("product:2", lambda: db.load_product(2))
        finally:
            await redis.aclose()

    read = asyncio.run(main())
    assert db.calls == 2, "the database was asked first (the copy was not fresh)"
    assert read.source == "stale", "the database refused: the 2-minute-old copy is served"
    assert read.value["name"] == "Teapot"
    assert read.age == pytest.approx(120)


def test_a_terminated_database_connection_also_falls_back(
    products_url, redis_space, fake_time
) -> None:
    import psycopg

    async def main():
        redis = await open_redis(redis_space.url)
        conn = await psycopg.AsyncConnection.connect(products_url, autocommit=True)
        try:
            cache = make_cache(redis, redis_space, fake_time)

            async def load_on_the_open_connection():
                cursor = await conn.execute("SELECT name FROM products WHERE id = 1")
                return {"name": (await cursor.fetchone())[0]}

            await cache.get("product:1", load_on_the_open_connection)
            with psycopg.connect(products_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
            fake_time.advance(60)
            return await cache.get("product:1", load_on_the_open_connection)
        finally:
            await conn.close()
            await redis.aclose()

    read = asyncio.run(main())
    assert read.source == "stale", (
        "the server terminated the connection (psycopg.OperationalError): serve the copy"
    )


def test_a_database_that_hangs_counts_as_down_after_load_timeout(
    products_url, redis_space, fake_time
) -> None:
    import psycopg

    db = Database(products_url)

    async def main():
        redis = await open_redis(redis_space.url)
        try:
            cache = make_cache(redis, redis_space, fake_time, load_timeout=0.15)
            await cache.get("product:1", lambda: db.load_product(1))
            fake_time.advance(30)
            with psycopg.connect(products_url) as locker:
                # A migration holds the table: every read of it waits for the lock.
                locker.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
                read = None
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PATIENCE):
                        read = await cache.get("product:1", lambda: db.load_product(1))
                locker.rollback()
            return read
        finally:
            await redis.aclose()

    read = asyncio.run(main())
    assert read is not None, "the read waited for the locked table: cut the loader off"
    assert read.source == "stale", "no answer within load_timeout: the stale copy is served"


def test_a_copy_older_than_stale_seconds_is_not_served(
    products_url, redis_space, fake_time, closed_port
) -> None:
    db = Database(products_url)

    async def main():
        redis = await open_redis(redis_space.url)
        try:
            cache = make_cache(redis, redis_space, fake_time)
            await cache.get("product:1", lambda: db.load_product(1))
            db.go_down(closed_port)
            fake_time.advance(301)
            await cache.get("product:1", lambda: db.load_product(1))
        finally:
            await redis.aclose()

    import psycopg

    with pytest.raises(stale.Unavailable) as caught:
        asyncio.run(main())
    assert isinstance(caught.value.__cause__, psycopg.OperationalError), (
        "raise Unavailable from the database's error"
    )


def test_with_nothing_cached_a_database_outage_is_unavailable(
    redis_space, fake_time, closed_port
) -> None:
    db = Database("unused")
    db.go_down(closed_port)

    async def main():
        redis = await open_redis(redis_space.url)
        try:
            cache = make_cache(redis, redis_space, fake_time)
            await cache.get("product:1", lambda: db.load_product(1))
        finally:
            await redis.aclose()

    with pytest.raises(stale.Unavailable):
        asyncio.run(main())


def test_a_bug_in_the_query_is_not_hidden_behind_a_stale_copy(
    products_url, redis_space, fake_time
) -> None:
    import psycopg

    db = Database(products_url)

    async def broken_query():
        async with await psycopg.AsyncConnection.connect(products_url) as conn:
            await conn.execute("SELECT * FROM prodcuts")  # a typo: UndefinedTable
        return

    async def main():
        redis = await open_redis(redis_space.url)
        try:
            cache = make_cache(redis, redis_space, fake_time)
            await cache.get("product:1", lambda: db.load_product(1))
            fake_time.advance(60)
            await cache.get("product:1", broken_query)
        finally:
            await redis.aclose()

    with pytest.raises(psycopg.errors.UndefinedTable):
        asyncio.run(main())


def test_when_redis_is_down_reads_come_from_the_database(
    products_url, fake_time, closed_port, redis_space
) -> None:
    db = Database(products_url)

    async def main():
        redis = await dead_redis(closed_port)
        try:
            cache = make_cache(redis, redis_space, fake_time)
            return [await cache.get("product:1", lambda: db.load_product(1)) for _ in range(2)]
        finally:
            await redis.aclose()

    reads = asyncio.run(main())
    assert [r.source for r in reads] == ["database", "database"], (
        "a cache that is down is not an error for a read: go to the database"
    )
    assert reads[0].value["name"] == "Mug"
    assert db.calls == 2


def test_with_both_down_it_is_unavailable(fake_time, closed_port, redis_space) -> None:
    db = Database("unused")
    db.go_down(closed_port)

    async def main():
        redis = await dead_redis(closed_port)
        try:
            cache = make_cache(redis, redis_space, fake_time)
            await cache.get("product:1", lambda: db.load_product(1))
        finally:
            await redis.aclose()

    with pytest.raises(stale.Unavailable):
        asyncio.run(main())


@pytest.mark.parametrize(
    "bad",
    [
        {"fresh_seconds": -1, "stale_seconds": 10},
        {"fresh_seconds": 10, "stale_seconds": 5},
        {"fresh_seconds": 1, "stale_seconds": 5, "load_timeout": 0},
    ],
)
def test_bad_settings_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        stale.StaleCache(object(), prefix="p", **bad)


# -- the HTTP face: 200 hit/miss/stale, 404, and 503 instead of 500 ------------------------


def test_the_route_says_where_the_answer_came_from_and_never_500s(
    serve, products_url, redis_space, fake_time, closed_port, randoms, http_client
) -> None:

    db = Database(products_url)

    async def main() -> dict:
        redis = await open_redis(redis_space.url)
        try:
            cache = make_cache(redis, redis_space, fake_time)
            app = stale.create_app(
                cache, db.load_product, retry_after=2.0, random=randoms(0.0, 0.999)
            )
            async with serve(app) as base, http_client(base_url=base, timeout=10) as c:
                seen = {"miss": await c.get("/products/1"), "hit": await c.get("/products/1")}
                seen["missing"] = await c.get("/products/99")
                db.go_down(closed_port)
                fake_time.advance(42.7)
                seen["stale"] = await c.get("/products/1")
                seen["down"] = await c.get("/products/2")
                seen["down again"] = await c.get("/products/2")
            return seen
        finally:
            await redis.aclose()

    seen = asyncio.run(main())
    assert seen["miss"].status_code == 200
    assert seen["miss"].json()["name"] == "Mug"
    assert seen["miss"].headers["x-cache"] == "miss"
    assert seen["hit"].headers["x-cache"] == "hit"
    assert seen["missing"].status_code == 404, "a product that does not exist is a 404"
    assert seen["stale"].status_code == 200, "the database is down, the copy still serves"
    assert seen["stale"].headers["x-cache"] == "stale"
    assert seen["stale"].headers["age"] == "42", "Age: the copy's age in whole seconds"
    down = seen["down"]
    assert down.status_code == 503, "nothing to serve and the database down: 503, never 500"
    assert down.headers["content-type"].startswith("application/problem+json")
    assert [down.headers["retry-after"], seen["down again"].headers["retry-after"]] == ["2", "4"], (
        "Retry-After is jittered_retry_after(retry_after, random=random): "
        "with retry_after=2 and random() 0.0 then 0.999, '2' then '4'"
    )

"""The catalog's cache-aside with a dictionary for Redis: hits, misses, and invalidation by
generation that no reader racing with a write can undo."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from capstone.catalog.repository import ProductCache
from capstone.contracts.catalog import ProductOut, ProductPage


class FakeRedis:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.ttls: dict[str, int] = {}

    async def get(self, key: str) -> str | None:
        return self.data.get(key)

    async def set(self, key: str, value: str, ex: int) -> None:
        self.data[key], self.ttls[key] = value, ex

    async def incr(self, key: str) -> int:
        self.data[key] = str(int(self.data.get(key, "0")) + 1)
        return int(self.data[key])


def product(name: str = "Mug") -> ProductOut:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return ProductOut(
        id=1, sku="mug", name=name, description="", price_cents=900, created_at=now, updated_at=now
    )


def test_a_miss_gives_the_key_to_fill_then_a_hit_with_the_ttl():
    redis = FakeRedis()
    cache = ProductCache(redis, "t", ttl_seconds=60)

    async def scenario():
        key, found = await cache.get_product(1)
        assert found is None
        await cache.put(key, product())
        assert redis.ttls[key] == 60
        _, found = await cache.get_product(1)
        assert found == product()
        key, page = await cache.get_page(10, 0)
        assert page is None
        await cache.put(key, ProductPage(items=[product()], limit=10, offset=0))
        _, page = await cache.get_page(10, 0)
        assert page is not None
        assert page.items == [product()]

    asyncio.run(scenario())


def test_a_write_hides_every_cached_product_and_page():
    cache = ProductCache(FakeRedis(), "t", ttl_seconds=60)

    async def scenario():
        key, _ = await cache.get_product(1)
        await cache.put(key, product())
        page_key, _ = await cache.get_page(10, 0)
        await cache.put(page_key, ProductPage(items=[product()], limit=10, offset=0))
        await cache.invalidate()
        assert (await cache.get_product(1))[1] is None
        assert (await cache.get_page(10, 0))[1] is None

    asyncio.run(scenario())


def test_a_reader_that_read_before_a_write_cannot_put_the_old_product_back():
    cache = ProductCache(FakeRedis(), "t", ttl_seconds=60)

    async def scenario():
        stale_key, _ = await cache.get_product(1)  # the reader misses, reads the database...
        await cache.invalidate()  # ...a write commits and invalidates...
        await cache.put(stale_key, product("old name"))  # ...the reader fills its old key
        key, found = await cache.get_product(1)
        assert found is None, "the old document is under a generation nobody reads"
        assert key != stale_key

    asyncio.run(scenario())

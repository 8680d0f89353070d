"""The catalog's cache-aside on real Redis: hits, misses, and invalidation by
generation that no reader racing with a write can undo."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis

from capstone.catalog.repository import ProductCache
from capstone.contracts.catalog import ProductOut, ProductPage

pytestmark = pytest.mark.redis


@pytest.fixture
def new_cache(redis_space: Any) -> Callable[[], ProductCache]:
    """A ProductCache on real Redis (its lookup is a Lua script), under the test's own prefix;
    each cache gets a client of its own, on the loop of the test that uses it."""

    def make() -> ProductCache:
        return ProductCache(aioredis.from_url(redis_space.url), redis_space.prefix, 60)

    return make


def product(name: str = "Mug") -> ProductOut:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return ProductOut(
        id=1, sku="mug", name=name, description="", price_cents=900, created_at=now, updated_at=now
    )


def test_a_miss_gives_the_key_to_fill_then_a_hit_with_the_ttl(new_cache):
    async def scenario():
        cache = new_cache()
        key, found = await cache.get_product(1)
        assert found is None
        await cache.put(key, product())
        assert 0 < await cache.redis.ttl(key) <= 60
        _, found = await cache.get_product(1)
        assert found is not None, "one round trip finds the generation and the product"
        assert ProductOut.model_validate_json(found) == product()
        key, page = await cache.get_page(10, 0)
        assert page is None
        await cache.put(key, ProductPage(items=[product()], limit=10, offset=0))
        _, page = await cache.get_page(10, 0)
        assert page is not None
        assert ProductPage.model_validate_json(page).items == [product()]

    asyncio.run(scenario())


def test_a_write_hides_every_cached_product_and_page(new_cache):
    async def scenario():
        cache = new_cache()
        key, _ = await cache.get_product(1)
        await cache.put(key, product())
        page_key, _ = await cache.get_page(10, 0)
        await cache.put(page_key, ProductPage(items=[product()], limit=10, offset=0))
        await cache.invalidate()
        assert (await cache.get_product(1))[1] is None
        assert (await cache.get_page(10, 0))[1] is None

    asyncio.run(scenario())


def test_a_reader_that_read_before_a_write_cannot_put_the_old_product_back(new_cache):
    async def scenario():
        cache = new_cache()
        stale_key, _ = await cache.get_product(1)  # the reader misses, reads the database...
        await cache.invalidate()  # ...a write commits and invalidates...
        await cache.put(stale_key, product("old name"))  # ...the reader fills its old key
        key, found = await cache.get_product(1)
        assert found is None, "the old document is under a generation nobody reads"
        assert key != stale_key

    asyncio.run(scenario())

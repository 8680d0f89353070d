"""04.9 (capstone piece) — a race-free cache-aside product store."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from journey.pytest_plugin import RedisSpace
from journey.targets import load

store = load(__file__, "catalog_store")
uow_module = load(__file__, "unit_of_work")
View = store.ProductView
MUG = View(id=7, sku="SKU-7", name="Mug", price_cents=1200)
NEW_MUG = View(id=7, sku="SKU-7", name="Mug", price_cents=990)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    uow_module.Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def cache_in(redis_space: RedisSpace, ttl_seconds: int = 60):
    return store.ProductCache(redis_space.client, redis_space.key("catalog"), ttl_seconds)


def loader_of(*answers: View | None) -> tuple[Callable[[int], View | None], list[int]]:
    """A loader that answers the given views in turn and records each call."""
    calls: list[int] = []
    pending = list(answers)

    def load_product(product_id: int) -> View | None:
        calls.append(product_id)
        return pending.pop(0) if len(pending) > 1 else pending[0]

    return load_product, calls


# -- the cache ----------------------------------------------------------------------------


def test_cache_aside_loads_once_and_sets_a_ttl(redis_space: RedisSpace) -> None:
    cache = cache_in(redis_space, ttl_seconds=60)
    loader, calls = loader_of(MUG)
    assert cache.get_or_load(7, loader) == MUG, "a miss returns what the loader found"
    assert cache.get_or_load(7, loader) == MUG, "a hit returns the cached value"
    assert calls == [7], "the loader runs on the first read only; the second is a cache hit"
    assert cache.generation(7) == 0, "a product never invalidated is in generation 0"
    key = cache.key(7, 0)
    assert key == f"{redis_space.key('catalog')}:product:7:g0"
    assert View.from_json(redis_space.client.get(key)) == MUG, "the value is stored as JSON"
    ttl = redis_space.client.ttl(key)
    assert 0 < ttl <= 60, f"a cached entry must expire (TTL {ttl}): set it with ex=ttl_seconds"


def test_missing_products_are_not_cached(redis_space: RedisSpace) -> None:
    cache = cache_in(redis_space)
    loader, calls = loader_of(None)
    assert cache.get_or_load(1, loader) is None
    assert cache.get_or_load(1, loader) is None
    assert calls == [1, 1], "a None from the loader is not cached: the product may appear later"
    assert redis_space.client.exists(cache.key(1, 0)) == 0


def test_invalidate_bumps_the_generation_and_the_next_read_loads(redis_space: RedisSpace) -> None:
    cache = cache_in(redis_space)
    loader, calls = loader_of(MUG, NEW_MUG)
    assert cache.get_or_load(7, loader) == MUG
    cache.invalidate(7)
    assert cache.generation(7) == 1, "invalidate increments the product's generation"
    assert redis_space.client.get(cache.generation_key(7)) == "1", (
        "the generation is a counter in Redis, at generation_key(product_id)"
    )
    assert redis_space.client.ttl(cache.generation_key(7)) == -1, "the counter has no TTL"
    assert cache.get_or_load(7, loader) == NEW_MUG, "after invalidate, the next read loads"
    assert calls == [7, 7]
    assert cache.get_or_load(7, loader) == NEW_MUG, "... and caches what it loaded"
    assert calls == [7, 7]
    cache.invalidate(8)
    assert cache.generation(7) == 1, "each product has its own generation"


def test_a_read_that_loaded_the_old_row_does_not_outlive_the_write(
    redis_space: RedisSpace,
) -> None:
    cache = cache_in(redis_space)
    calls: list[int] = []

    def slow_reader(product_id: int) -> View:
        calls.append(product_id)
        if len(calls) == 1:
            # This reader has just read the OLD row from the database. Before it stores it,
            # a writer commits a new price and invalidates the cache.
            cache.invalidate(product_id)
            return MUG
        return NEW_MUG

    assert cache.get_or_load(7, slow_reader) == MUG, "the slow reader itself got the old row"
    got = cache.get_or_load(7, slow_reader)
    assert got == NEW_MUG, (
        f"a read after the write got {got}: the slow reader stored the old row AFTER the "
        "invalidation. Read the generation BEFORE calling the loader, and store under the key of "
        "that generation: a value loaded before a write then lands where nobody reads"
    )


def test_every_process_shares_the_generation(redis_space: RedisSpace) -> None:
    here = cache_in(redis_space)
    elsewhere = cache_in(redis_space)  # another instance of the service, on the same Redis
    loader, _ = loader_of(MUG, NEW_MUG)
    assert here.get_or_load(7, loader) == MUG
    elsewhere.invalidate(7)
    assert here.get_or_load(7, loader) == NEW_MUG, (
        "an invalidation by another ProductCache on the same prefix must reach this one: keep "
        "the generation in Redis, never in the object"
    )


def test_the_ttl_must_be_positive(redis_space: RedisSpace) -> None:
    with pytest.raises(ValueError, match="ttl"):
        cache_in(redis_space, ttl_seconds=0)
    cache = cache_in(redis_space, ttl_seconds=1)
    loader, _ = loader_of(MUG)
    cache.get_or_load(7, loader)
    assert redis_space.client.ttl(cache.key(7, 0)) == 1, "ttl_seconds=1 is the smallest valid TTL"


# -- the catalog service ------------------------------------------------------------------


def test_reads_are_served_from_the_cache(engine: Engine, redis_space: RedisSpace) -> None:
    cache = cache_in(redis_space, ttl_seconds=30)
    service = store.CatalogService(session_factory(engine), cache)
    created = service.create_product("SKU-1", "Mug", 1200)
    assert created == View(created.id, "SKU-1", "Mug", 1200)
    assert service.get_product(created.id) == created
    # change the row behind the service's back: a cached read must not see it
    with Session(engine) as session, session.begin():
        session.get(uow_module.Product, created.id).name = "Changed directly"
    assert service.get_product(created.id) == created, "the second read comes from Redis"
    assert 0 < redis_space.client.ttl(cache.key(created.id, 0)) <= 30
    assert service.get_product(created.id + 999) is None, "an unknown product is None"


def test_a_write_invalidates_the_cached_product(engine: Engine, redis_space: RedisSpace) -> None:
    cache = cache_in(redis_space)
    service = store.CatalogService(session_factory(engine), cache)
    created = service.create_product("SKU-1", "Mug", 1200)
    service.get_product(created.id)  # now cached
    updated = service.change_price(created.id, 999)
    assert updated.price_cents == 999
    assert service.get_product(created.id) == updated, (
        "after a write, readers get the new price: change_price invalidates the cache"
    )
    with pytest.raises(store.ProductNotFound):
        service.change_price(created.id + 999, 100)
    with pytest.raises(ValueError, match="negative"):
        service.change_price(created.id, -5)
    assert service.get_product(created.id) == updated, "a refused change leaves the product alone"


def test_invalidation_waits_for_the_commit(engine: Engine, redis_space: RedisSpace) -> None:
    factory = session_factory(engine)

    class RacingCache(store.ProductCache):
        """A cache where another reader strikes right after every invalidation."""

        def invalidate(self, product_id: int) -> None:
            super().invalidate(product_id)
            # a concurrent reader misses the cache now, loads from the database and re-caches
            # whatever it sees there: the new price only if the write is already committed
            reader.get_product(product_id)

    cache = RacingCache(redis_space.client, redis_space.key("catalog"))
    reader = store.CatalogService(factory, cache)
    service = store.CatalogService(factory, cache)
    created = service.create_product("SKU-1", "Mug", 1200)
    service.get_product(created.id)  # now cached
    service.change_price(created.id, 999)
    got = service.get_product(created.id)
    assert got is not None, "the product still exists after a price change"
    assert got.price_cents == 999, (
        f"the cache serves the old price {got.price_cents} after the write: it was "
        "invalidated BEFORE the commit, so a reader re-cached the old row. Invalidate in an "
        "after-commit callback (uow.after_commit(...))"
    )


def test_a_slow_reader_and_a_writer_in_two_threads(engine: Engine, redis_space: RedisSpace) -> None:
    factory = session_factory(engine)
    loaded, stored = threading.Event(), threading.Event()
    go_on = threading.Event()

    class PausingCache(store.ProductCache):
        """Holds the first reader between its database read and its cache write."""

        def get_or_load(self, product_id, loader):
            def paused(pid: int):
                view = loader(pid)  # the real database read
                if not loaded.is_set():
                    loaded.set()
                    go_on.wait(timeout=10)  # ... and a slow way back to Redis
                return view

            try:
                return super().get_or_load(product_id, paused)
            finally:
                stored.set()

    cache = PausingCache(redis_space.client, redis_space.key("catalog"))
    service = store.CatalogService(factory, cache)
    created = service.create_product("SKU-1", "Mug", 1200)
    reader = threading.Thread(target=service.get_product, args=(created.id,))
    reader.start()
    try:
        assert loaded.wait(timeout=10), "the reader should load the product from the database"
        service.change_price(created.id, 999)  # commits, then invalidates
    finally:
        go_on.set()
        reader.join(timeout=10)
    assert stored.is_set()
    got = service.get_product(created.id)
    assert got is not None
    assert got.price_cents == 999, (
        f"after the write, the cache serves the old price {got.price_cents}: a reader that had "
        "loaded the old row stored it after the invalidation (delete-after-commit races with "
        "it). Key the cache by a generation read before loading"
    )


def test_create_product_refuses_a_duplicate_sku(engine: Engine, redis_space: RedisSpace) -> None:
    service = store.CatalogService(session_factory(engine), cache_in(redis_space))
    service.create_product("SKU-1", "Mug", 1200)
    with pytest.raises(store.DuplicateSku):
        service.create_product("SKU-1", "Mug again", 1300)
    with Session(engine) as session:
        assert session.scalars(select(uow_module.Product.name)).all() == ["Mug"]

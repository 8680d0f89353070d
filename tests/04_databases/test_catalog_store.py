"""04.7 (capstone piece) — repository, unit of work, and a cache-aside product store."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from journey.pytest_plugin import RedisSpace
from journey.targets import load

store = load(__file__, "catalog_store")
View = store.ProductView


def session_factory(engine: Engine) -> sessionmaker[Session]:
    store.Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def skus(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(store.Product.sku).order_by(store.Product.sku)))


# -- unit of work and repository ----------------------------------------------------------


def test_commit_makes_the_work_visible(engine: Engine) -> None:
    factory = session_factory(engine)
    with store.UnitOfWork(factory) as uow:
        product = uow.products.add("SKU-1", "Mug", 1200)
        uow.commit()
    assert skus(engine) == ["SKU-1"], "after commit() another session sees the product"
    with store.UnitOfWork(factory) as uow:
        found = uow.products.get(product.id)
        assert found is not None, "the repository finds it by id"
        assert found.name == "Mug"
        assert uow.products.get(product.id + 999) is None


def test_leaving_without_commit_rolls_back(engine: Engine) -> None:
    factory = session_factory(engine)
    with store.UnitOfWork(factory) as uow:
        uow.products.add("SKU-1", "Mug", 1200)
        uow.session.flush()  # even flushed rows are only part of the open transaction
    assert skus(engine) == [], "a unit of work that is not committed leaves nothing behind"


def test_an_exception_rolls_back_and_propagates(engine: Engine) -> None:
    factory = session_factory(engine)

    def fail_half_way() -> None:
        with store.UnitOfWork(factory) as uow:
            uow.products.add("SKU-1", "Mug", 1200)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_half_way()
    assert skus(engine) == [], "an error inside the block rolls the work back"


def test_after_commit_callbacks_run_only_after_a_commit(engine: Engine) -> None:
    factory = session_factory(engine)
    seen_by_others: list[list[str]] = []
    with store.UnitOfWork(factory) as uow:
        uow.products.add("SKU-1", "Mug", 1200)
        uow.after_commit(lambda: seen_by_others.append(skus(engine)))
        assert seen_by_others == [], "a callback waits for the commit"
        uow.commit()
    assert seen_by_others == [["SKU-1"]], (
        "after-commit callbacks run once, when the data is already visible to other sessions"
    )
    ran: list[str] = []
    with store.UnitOfWork(factory) as uow:
        uow.after_commit(lambda: ran.append("rolled back"))
        uow.rollback()
        uow.commit()
    assert ran == [], "rollback() drops the callbacks registered before it"
    with store.UnitOfWork(factory) as uow:
        uow.after_commit(lambda: ran.append("never committed"))
    assert ran == [], "leaving without commit never runs the callbacks"


def test_a_duplicate_sku_does_not_spoil_the_unit_of_work(engine: Engine) -> None:
    factory = session_factory(engine)
    with store.UnitOfWork(factory) as uow:
        uow.products.add("SKU-1", "Mug", 1200)
        with pytest.raises(store.DuplicateSku):
            uow.products.add("SKU-1", "Another mug", 900)
        uow.products.add("SKU-2", "Plate", 1500)
        uow.commit()
    assert skus(engine) == ["SKU-1", "SKU-2"], (
        "the refused duplicate is undone alone (a SAVEPOINT), the rest of the work commits"
    )


def test_a_negative_price_is_refused(engine: Engine) -> None:
    factory = session_factory(engine)
    with store.UnitOfWork(factory) as uow, pytest.raises(ValueError, match="negative"):
        uow.products.add("SKU-1", "Mug", -1)


def test_list_all_orders_by_id_and_limits(engine: Engine) -> None:
    factory = session_factory(engine)
    with store.UnitOfWork(factory) as uow:
        for n in range(5):
            uow.products.add(f"SKU-{n}", f"Item {n}", 100 * n)
        uow.commit()
    with store.UnitOfWork(factory) as uow:
        listed = uow.products.list_all(limit=3)
        assert [p.sku for p in listed] == ["SKU-0", "SKU-1", "SKU-2"]


# -- cache-aside --------------------------------------------------------------------------


def test_cache_aside_loads_once_and_sets_a_ttl(redis_space: RedisSpace) -> None:
    cache = store.ProductCache(redis_space.client, redis_space.key("catalog"), ttl_seconds=60)
    calls: list[int] = []
    mug = View(id=7, sku="SKU-7", name="Mug", price_cents=1200)

    def loader(product_id: int) -> View | None:
        calls.append(product_id)
        return mug

    assert cache.get_or_load(7, loader) == mug, "a miss returns what the loader found"
    assert cache.get_or_load(7, loader) == mug, "a hit returns the cached value"
    assert calls == [7], "the loader runs on the first read only; the second is a cache hit"
    key = cache.key(7)
    assert key.startswith(redis_space.key("catalog")), "keys live under the given prefix"
    assert View.from_json(redis_space.client.get(key)) == mug, "the value is stored as JSON"
    ttl = redis_space.client.ttl(key)
    assert 0 < ttl <= 60, f"a cached entry must expire (TTL {ttl}): set it with ex=ttl_seconds"


def test_missing_products_are_not_cached(redis_space: RedisSpace) -> None:
    cache = store.ProductCache(redis_space.client, redis_space.key("catalog"))
    calls: list[int] = []

    def loader(product_id: int) -> View | None:
        calls.append(product_id)
        return None

    assert cache.get_or_load(1, loader) is None
    assert cache.get_or_load(1, loader) is None
    assert calls == [1, 1], "a None from the loader is not cached: the product may appear later"
    assert redis_space.client.exists(cache.key(1)) == 0


def test_invalidate_forces_the_next_read_to_load(redis_space: RedisSpace) -> None:
    cache = store.ProductCache(redis_space.client, redis_space.key("catalog"))
    versions = iter([View(1, "S", "Old", 100), View(1, "S", "New", 200)])
    assert cache.get_or_load(1, lambda _: next(versions)).name == "Old"
    cache.invalidate(1)
    assert redis_space.client.exists(cache.key(1)) == 0, "invalidate deletes the key"
    assert cache.get_or_load(1, lambda _: next(versions)).name == "New"


def test_a_ttl_must_be_positive(redis_space: RedisSpace) -> None:
    with pytest.raises(ValueError, match="ttl"):
        store.ProductCache(redis_space.client, redis_space.key("catalog"), ttl_seconds=0)


# -- the catalog service ------------------------------------------------------------------


def test_reads_are_served_from_the_cache(engine: Engine, redis_space: RedisSpace) -> None:
    cache = store.ProductCache(redis_space.client, redis_space.key("catalog"), ttl_seconds=30)
    service = store.CatalogService(session_factory(engine), cache)
    created = service.create_product("SKU-1", "Mug", 1200)
    assert created == View(created.id, "SKU-1", "Mug", 1200)
    assert service.get_product(created.id) == created
    # change the row behind the service's back: a cached read must not see it
    with Session(engine) as session, session.begin():
        session.get(store.Product, created.id).name = "Changed directly"
    assert service.get_product(created.id) == created, "the second read comes from Redis"
    assert 0 < redis_space.client.ttl(cache.key(created.id)) <= 30
    assert service.get_product(created.id + 999) is None, "an unknown product is None"


def test_a_write_invalidates_the_cached_product(engine: Engine, redis_space: RedisSpace) -> None:
    cache = store.ProductCache(redis_space.client, redis_space.key("catalog"))
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


def test_create_product_refuses_a_duplicate_sku(engine: Engine, redis_space: RedisSpace) -> None:
    cache = store.ProductCache(redis_space.client, redis_space.key("catalog"))
    service = store.CatalogService(session_factory(engine), cache)
    service.create_product("SKU-1", "Mug", 1200)
    with pytest.raises(store.DuplicateSku):
        service.create_product("SKU-1", "Mug again", 1300)
    assert skus(engine) == ["SKU-1"]

"""04.9 (capstone piece) — the catalog's product store: race-free cache-aside, keyset pages."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from journey.pytest_plugin import RedisSpace
from journey.targets import load

store = load(__file__, "catalog_store")
uow_module = load(__file__, "unit_of_work")
View = store.ProductView
Page = store.ProductPage
MADE = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MUG = View(7, "SKU-7", "Mug", "", 1200, MADE, MADE)
NEW_MUG = View(7, "SKU-7", "Mug", "", 990, MADE, MADE)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    uow_module.Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def cache_in(redis_space: RedisSpace, ttl_seconds: int = 60, client: Any = None):
    client = redis_space.client if client is None else client
    return store.ProductCache(client, redis_space.key("catalog"), ttl_seconds)


def loader_of(*answers: View | None) -> tuple[Callable[[int], View | None], list[int]]:
    """A loader that answers the given views in turn and records each call."""
    calls: list[int] = []
    pending = list(answers)

    def load_product(product_id: int) -> View | None:
        calls.append(product_id)
        return pending.pop(0) if len(pending) > 1 else pending[0]

    return load_product, calls


class FlakyRedis:
    """A redis.Redis that can be switched off: while ``down``, every command raises
    ConnectionError, as when the server is unreachable. The commands named in ``failing``
    (``{"set"}``) raise it while the others work, as when Redis dies in the middle of a read."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.down = False
        self.failing: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        command = getattr(self.client, name)
        if not callable(command):
            return command

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.down or name in self.failing:
                raise redis.ConnectionError("Redis is unreachable")
            return command(*args, **kwargs)

        return call


# -- the cache ----------------------------------------------------------------------------


def test_cache_aside_loads_once_and_sets_a_ttl(redis_space: RedisSpace) -> None:
    cache = cache_in(redis_space, ttl_seconds=60)
    loader, calls = loader_of(MUG)
    first = cache.get_or_load(7, loader)
    assert first == MUG, "a miss returns what the loader found"
    assert not first.from_cache
    second = cache.get_or_load(7, loader)
    assert second == MUG, "a hit returns the cached value"
    assert second.from_cache, "a hit is the view read back with ProductView.from_json"
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


def test_a_read_that_loaded_the_old_page_does_not_outlive_the_write(
    redis_space: RedisSpace,
) -> None:
    cache = cache_in(redis_space)
    old_page, new_page = Page((MUG,), None), Page((NEW_MUG,), None)
    calls: list[int] = []

    def slow_page_reader() -> Any:
        calls.append(1)
        if len(calls) == 1:
            # This reader has just read the OLD page from the database. Before it stores it,
            # a writer commits a change and invalidates the pages.
            cache.invalidate_pages()
            return old_page
        return new_page

    assert cache.get_or_load_page(10, 0, slow_page_reader) == old_page, (
        "the slow reader itself got the old page"
    )
    got = cache.get_or_load_page(10, 0, slow_page_reader)
    assert got == new_page, (
        f"a read after the write got {got}: the slow reader stored the old page AFTER the "
        "pages were invalidated. Pages race like products: read the pages' generation BEFORE "
        "calling the loader, and store the page under the key of that generation"
    )
    assert len(calls) == 2, "the read after the write loads the page again"


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


def test_pages_are_cached_under_their_own_generation(redis_space: RedisSpace) -> None:
    cache = cache_in(redis_space, ttl_seconds=60)
    pages = [Page((MUG,), None), Page((NEW_MUG,), None), Page((), None)]
    calls: list[int] = []

    def load_page() -> Any:
        calls.append(1)
        return pages[len(calls) - 1]

    assert cache.get_or_load_page(10, 0, load_page) == pages[0]
    cached = cache.get_or_load_page(10, 0, load_page)
    assert cached == pages[0]
    assert cached.from_cache, "a page read back from the cache says so"
    assert len(calls) == 1, "the second read of the same page is a hit"
    key = cache.page_key(0, 10, 0)
    assert 0 < redis_space.client.ttl(key) <= 60, "a cached page expires too"
    cache.invalidate(8)
    assert cache.get_or_load_page(10, 0, load_page) == pages[1], (
        "a change of ANY product retires every cached page: invalidate(product_id) also bumps "
        "the pages' generation"
    )
    cache.invalidate_pages()
    assert cache.pages_generation() == 2
    assert cache.get_or_load_page(10, 0, load_page) == pages[2]
    assert cache.get_or_load(7, loader_of(MUG)[0]) == MUG
    cache.invalidate_pages()
    assert cache.generation(7) == 0, "invalidate_pages leaves the products' entries alone"


def test_reads_work_while_redis_is_down(redis_space: RedisSpace) -> None:
    flaky = FlakyRedis(redis_space.client)
    cache = cache_in(redis_space, client=flaky)
    flaky.down = True
    loader, calls = loader_of(MUG)
    assert cache.get_or_load(7, loader) == MUG, (
        "a read must not fail because the cache is down: catch redis.RedisError and load"
    )
    assert cache.get_or_load_page(5, 0, lambda: Page((MUG,), None)) == Page((MUG,), None)
    assert calls == [7]
    cache.invalidate(7)  # no exception either: the write is already committed


def test_a_read_survives_a_cache_write_that_fails(redis_space: RedisSpace) -> None:
    flaky = FlakyRedis(redis_space.client)
    cache = cache_in(redis_space, client=flaky)
    flaky.failing = {"set"}  # the GET works (a miss), then Redis dies before the SET
    loader, calls = loader_of(MUG)
    page = Page((MUG,), None)
    try:
        got = cache.get_or_load(7, loader)
        got_page = cache.get_or_load_page(5, 0, lambda: page)
    except redis.RedisError as error:
        pytest.fail(
            f"a read failed with {error!r} because storing what it loaded in the cache failed: "
            "the value is already loaded, so catch redis.RedisError around the SET too, and "
            "answer the value without caching it"
        )
    assert got == MUG, "a read whose SET failed still answers what the loader found"
    assert got_page == page, "... and so does a page read"
    assert calls == [7]
    assert redis_space.client.exists(cache.key(7, 0)) == 0, "nothing was cached"
    flaky.failing = set()
    assert cache.get_or_load(7, loader) == MUG
    assert calls == [7, 7], "nothing was cached, so the next read loads again"
    assert cache.get_or_load(7, loader).from_cache, "... and caches it, now that SET works"


def test_an_invalidation_refused_while_redis_is_down_is_made_later(
    redis_space: RedisSpace,
) -> None:
    flaky = FlakyRedis(redis_space.client)
    cache = cache_in(redis_space, client=flaky)
    loader, _ = loader_of(MUG, NEW_MUG)
    assert cache.get_or_load(7, loader) == MUG  # cached
    cached_page = Page((MUG,), None)
    assert cache.get_or_load_page(5, 0, lambda: cached_page) == cached_page
    flaky.down = True
    cache.invalidate(7)  # a write committed while Redis was away
    assert cache.get_or_load(7, loader) == NEW_MUG, "while Redis is down, reads load"
    flaky.down = False
    got = cache.get_or_load(7, loader)
    assert got == NEW_MUG, (
        f"after Redis came back, the cache served {got}, cached before a write it missed: "
        "remember a failed invalidation and make it before the cache is used again"
    )
    assert not got.from_cache
    new_page = Page((NEW_MUG,), None)
    assert cache.get_or_load_page(5, 0, lambda: new_page) == new_page, (
        "the postponed invalidation retires the cached pages too"
    )
    assert cache.get_or_load(7, loader).from_cache, "once caught up, the cache is used again"


# -- the catalog service ------------------------------------------------------------------


def test_reads_are_served_from_the_cache(engine: Engine, redis_space: RedisSpace) -> None:
    cache = cache_in(redis_space, ttl_seconds=30)
    service = store.CatalogService(session_factory(engine), cache)
    created = service.create_product("SKU-1", "Mug", 1200, description="A big mug")
    assert (created.sku, created.name, created.description, created.price_cents) == (
        "SKU-1",
        "Mug",
        "A big mug",
        1200,
    )
    assert created.created_at.tzinfo is not None, "the timestamps come from the database"
    assert created.updated_at == created.created_at
    assert service.get_product(created.id) == created
    # change the row behind the service's back: a cached read must not see it
    with Session(engine) as session, session.begin():
        session.get(uow_module.Product, created.id).name = "Changed directly"
    cached = service.get_product(created.id)
    assert cached == created, "the second read comes from Redis"
    assert cached.from_cache
    assert 0 < redis_space.client.ttl(cache.key(created.id, 0)) <= 30
    assert service.get_product(created.id + 999) is None, "an unknown product is None"


def test_a_write_invalidates_the_cached_product(engine: Engine, redis_space: RedisSpace) -> None:
    cache = cache_in(redis_space)
    service = store.CatalogService(session_factory(engine), cache)
    created = service.create_product("SKU-1", "Mug", 1200, description="Big")
    service.get_product(created.id)  # now cached
    updated = service.update_product(created.id, price_cents=999)
    assert (updated.name, updated.description, updated.price_cents) == ("Mug", "Big", 999), (
        "only the given fields change: None leaves a field as it is"
    )
    assert updated.updated_at >= created.updated_at
    assert service.get_product(created.id) == updated, (
        "after a write, readers get the new price: update_product invalidates the cache"
    )
    renamed = service.update_product(created.id, name="Cup", description="Smaller")
    assert (renamed.name, renamed.description, renamed.price_cents) == ("Cup", "Smaller", 999)
    assert service.get_product(created.id) == renamed
    with pytest.raises(store.ProductNotFound):
        service.update_product(created.id + 999, price_cents=100)
    with pytest.raises(ValueError, match="negative"):
        service.update_product(created.id, price_cents=-5)
    assert service.get_product(created.id) == renamed, "a refused change leaves the product alone"


def test_a_deleted_product_is_gone_from_the_cache(engine: Engine, redis_space: RedisSpace) -> None:
    service = store.CatalogService(session_factory(engine), cache_in(redis_space))
    created = service.create_product("SKU-1", "Mug", 1200)
    service.get_product(created.id)  # now cached
    assert [p.id for p in service.page(10).items] == [created.id]  # cached too
    service.delete_product(created.id)
    assert service.get_product(created.id) is None, "delete_product invalidates the product"
    assert service.page(10).items == (), "... and the pages"
    with pytest.raises(store.ProductNotFound):
        service.delete_product(created.id)


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
    service.update_product(created.id, price_cents=999)
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
        service.update_product(created.id, price_cents=999)  # commits, then invalidates
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


# -- keyset pages -------------------------------------------------------------------------


def walk(service: Any, limit: int) -> tuple[list[int], list[int]]:
    """Every product id, page after page, and the size of each page."""
    ids: list[int] = []
    sizes: list[int] = []
    after = 0
    for _ in range(50):
        page = service.page(limit, after)
        ids += [item.id for item in page.items]
        sizes.append(len(page.items))
        if page.next_after is None:
            return ids, sizes
        assert page.next_after == page.items[-1].id, "next_after is the last item's id"
        after = page.next_after
    raise AssertionError("the pages never end: next_after must be None on the last page")


def test_keyset_pages_walk_every_product_once(engine: Engine, redis_space: RedisSpace) -> None:
    service = store.CatalogService(session_factory(engine), cache_in(redis_space))
    made = [service.create_product(f"SKU-{n}", f"Item {n}", 100 * n).id for n in range(5)]
    ids, sizes = walk(service, limit=2)
    assert ids == made, "the pages hold every product once, in id order"
    assert sizes == [2, 2, 1]
    assert walk(service, limit=5) == (made, [5]), (
        "a page that holds the last product has next_after None: fetch limit + 1 rows to know"
    )
    assert service.page(3, made[-1]).items == ()
    first = service.page(2)
    assert first.items[0] == service.get_product(made[0])
    for bad in (0, store.MAX_PAGE_SIZE + 1):
        with pytest.raises(ValueError, match="limit"):
            service.page(bad)
    assert len(service.page(store.MAX_PAGE_SIZE).items) == 5, "MAX_PAGE_SIZE itself is fine"
    try:
        negative = service.page(2, -1)
    except ValueError as error:
        refusal = str(error)
    else:
        pytest.fail(
            f"page(2, -1) answered {[item.id for item in negative.items]} instead of raising "
            "ValueError: after_id is an id seen on an earlier page (0: from the first), never "
            "negative"
        )
    assert "after_id" in refusal, f"the ValueError should name after_id: {refusal!r}"


def test_a_page_does_not_move_when_products_are_added(
    engine: Engine, redis_space: RedisSpace
) -> None:
    service = store.CatalogService(session_factory(engine), cache_in(redis_space))
    made = [service.create_product(f"SKU-{n}", f"Item {n}", 100).id for n in range(4)]
    first = service.page(2)
    service.delete_product(made[0])  # with OFFSET, the next page would skip a product
    second = service.page(2, first.next_after)
    assert [item.id for item in second.items] == made[2:], (
        "the next page starts after the last id seen (WHERE id > after_id), not at a position"
    )
    assert service.page(2, made[3]).items == ()  # the (empty) page after the last, now cached
    added = service.create_product("SKU-new", "New", 100)
    assert [item.id for item in service.page(2, made[3]).items] == [added.id], (
        "a product created after the cached last page is on it: creating invalidates the pages"
    )


def test_a_write_retires_the_cached_pages(engine: Engine, redis_space: RedisSpace) -> None:
    service = store.CatalogService(session_factory(engine), cache_in(redis_space))
    mug = service.create_product("SKU-1", "Mug", 1200)
    plate = service.create_product("SKU-2", "Plate", 800)
    assert not service.page(10).from_cache
    assert service.page(10).from_cache, "the second read of a page is a hit"
    service.update_product(plate.id, price_cents=700)
    page = service.page(10)
    assert not page.from_cache
    assert [item.price_cents for item in page.items] == [mug.price_cents, 700], (
        "a change of one product must reach every cached page it is on"
    )


def test_the_service_works_while_redis_is_down(engine: Engine, redis_space: RedisSpace) -> None:
    flaky = FlakyRedis(redis_space.client)
    service = store.CatalogService(session_factory(engine), cache_in(redis_space, client=flaky))
    mug = service.create_product("SKU-1", "Mug", 1200)
    assert service.page(10).items == (mug,)
    assert service.page(10).from_cache, "the page is cached before Redis goes down"
    flaky.down = True
    plate = service.create_product("SKU-2", "Plate", 800)
    assert service.get_product(plate.id) == plate
    assert service.page(10).items == (mug, plate), "while Redis is down, pages load"
    flaky.down = False
    page = service.page(10)
    assert page.items == (mug, plate), (
        f"after Redis came back, the page cached before it went down was served without the "
        f"product created meanwhile (ids {[item.id for item in page.items]}): create_product's "
        "invalidate_pages failed and was forgotten. Remember a refused invalidation and make it "
        "before the cache is used again"
    )
    assert not page.from_cache, "the page cached before the create must not be served"

    assert service.get_product(mug.id) == mug
    assert service.get_product(mug.id).from_cache, "the mug is cached before Redis goes down"
    flaky.down = True
    updated = service.update_product(mug.id, price_cents=5)
    assert service.get_product(mug.id) == updated
    assert service.page(10).items == (updated, plate)
    flaky.down = False
    got = service.get_product(mug.id)
    assert got == updated, (
        f"after Redis came back, the cache served {got}, cached before a change made while "
        "it was down: the refused invalidation must be made before the cache is used again"
    )
    assert not got.from_cache
    assert service.page(10).items == (updated, plate)

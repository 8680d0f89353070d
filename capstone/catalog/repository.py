"""The catalog's storage: lesson 04's product store (04.9, ``catalog_store``), called from the
async routes.

The store holds all of the logic: the unit of work (04.8), cache-aside in Redis under
generations a write bumps after its commit (products and pages), keyset pages, reads that go
to the database while Redis is down. It is synchronous (a SQLAlchemy Session, a ``redis.Redis``),
so this module runs each call on one of the database's worker threads, and turns the store's
values and errors into the HTTP contract: ProductOut, ProductPage with an opaque cursor, 404,
409, and 422 for a cursor this service did not make.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import redis

from capstone.common.db import Database
from capstone.common.problems import Problem
from capstone.common.validation import MAX_ID
from capstone.contracts.catalog import ProductIn, ProductOut, ProductPage, ProductPatch
from capstone.contracts.paging import InvalidCursor, decode_cursor, encode_cursor
from capstone.pieces import piece

store = piece("catalog_store")
T = TypeVar("T")


class Catalog:
    """The store behind the routes: each method is one call of it on a worker thread. A read
    also says whether it came from the cache (``X-Cache``)."""

    def __init__(self, db: Database, redis_url: str, key_prefix: str, ttl_seconds: int) -> None:
        self.db = db
        # The store's own client, used from the worker threads (its connection pool is
        # thread-safe). A cache that does not answer within a second is skipped: reads go to
        # the database.
        self.redis = redis.Redis.from_url(
            redis_url, socket_connect_timeout=1, socket_timeout=1, decode_responses=True
        )
        cache = store.ProductCache(self.redis, f"{key_prefix}:catalog", ttl_seconds)
        self.service = store.CatalogService(db.sessions, cache)

    async def create(self, data: ProductIn) -> ProductOut:
        try:
            view = await self._call(lambda: self.service.create_product(**data.model_dump()))
        except store.DuplicateSku as error:
            raise Problem(409, "Conflict", f"a product with sku {data.sku!r} exists") from error
        return _out(view)

    async def get(self, product_id: int) -> tuple[ProductOut, bool]:
        """The product and whether it came from the cache; 404 when there is none."""
        view = await self._call(lambda: self.service.get_product(product_id))
        if view is None:
            raise _not_found(product_id)
        return _out(view), view.from_cache

    async def update(self, product_id: int, patch: ProductPatch) -> ProductOut:
        changes: dict[str, Any] = patch.model_dump(exclude_none=True)
        try:
            view = await self._call(lambda: self.service.update_product(product_id, **changes))
        except store.ProductNotFound as error:
            raise _not_found(product_id) from error
        return _out(view)

    async def page(self, limit: int, cursor: str | None) -> tuple[ProductPage, bool]:
        """The page after ``cursor`` (the first without one) and whether it came from the cache."""
        after_id = after_id_of(cursor)  # a bad cursor is a 422 before any database work
        found = await self._call(lambda: self.service.page(limit, after_id))
        next_cursor = None if found.next_after is None else encode_cursor(found.next_after)
        page = ProductPage(items=[_out(view) for view in found.items], next_cursor=next_cursor)
        return page, found.from_cache

    def close(self) -> None:
        self.redis.close()

    async def _call(self, fn: Callable[[], T]) -> T:
        return await self.db.in_thread(fn)


def _out(view: Any) -> ProductOut:
    return ProductOut.model_validate(view)  # from the store's view's attributes


def _not_found(product_id: int) -> Problem:
    return Problem(404, "Not Found", f"no product {product_id}")


def after_id_of(cursor: str | None) -> int:
    """The id after which the page starts (0: the first page); a 422 for a cursor not made here."""
    if cursor is None:
        return 0
    try:
        (after_id,) = decode_cursor(cursor)
    except (InvalidCursor, ValueError) as error:
        raise _invalid_cursor() from error
    # the store's ids are bigints; a bool is an int to Python, never an id
    if type(after_id) is not int or not 0 < after_id <= MAX_ID:
        raise _invalid_cursor()
    return after_id


def _invalid_cursor() -> Problem:
    return Problem(422, "Invalid cursor", "use the next_cursor of the previous page")

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

from typing import Any

import redis

from capstone.common.db import Database
from capstone.common.problems import Problem, invalid_cursor
from capstone.contracts.catalog import ProductIn, ProductOut, ProductPage, ProductPatch
from capstone.contracts.paging import InvalidCursor, decode_id_cursor, encode_cursor
from capstone.pieces import piece

store = piece("catalog_store")


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
            view = await self.db.in_thread(lambda: self.service.create_product(**data.model_dump()))
        except store.DuplicateSku as error:
            raise Problem(409, "Conflict", f"a product with sku {data.sku!r} exists") from error
        return _out(view)

    async def get(self, product_id: int) -> tuple[ProductOut, bool]:
        """The product and whether it came from the cache; 404 when there is none."""
        view = await self.db.in_thread(lambda: self.service.get_product(product_id))
        if view is None:
            raise _not_found(product_id)
        return _out(view), view.from_cache

    async def update(self, product_id: int, patch: ProductPatch) -> ProductOut:
        changes: dict[str, Any] = patch.model_dump(exclude_none=True)
        try:
            view = await self.db.in_thread(
                lambda: self.service.update_product(product_id, **changes)
            )
        except store.ProductNotFound as error:
            raise _not_found(product_id) from error
        return _out(view)

    async def page(self, limit: int, cursor: str | None) -> tuple[ProductPage, bool]:
        """The page after ``cursor`` (the first without one) and whether it came from the cache."""
        try:
            after_id = decode_id_cursor(cursor)  # a bad cursor is a 422 before any database work
        except InvalidCursor as error:
            raise invalid_cursor() from error
        found = await self.db.in_thread(lambda: self.service.page(limit, after_id))
        next_cursor = None if found.next_after is None else encode_cursor(found.next_after)
        page = ProductPage(items=[_out(view) for view in found.items], next_cursor=next_cursor)
        return page, found.from_cache

    def close(self) -> None:
        self.redis.close()


def _out(view: Any) -> ProductOut:
    return ProductOut.model_validate(view)  # from the store's view's attributes


def _not_found(product_id: int) -> Problem:
    return Problem(404, "Not Found", f"no product {product_id}")

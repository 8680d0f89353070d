"""04.9 (capstone piece) — the catalog's product store: race-free cache-aside, keyset pages.

Builds on your unit of work from 04.8 (``unit_of_work.py`` beside this file): do that first.
The capstone's catalog service runs on this file: its routes only move the calls to a worker
thread and turn the answers into HTTP.

Cache-aside: read the cache; on a miss, load from the database and store the value with a TTL;
a write makes the cached value unreachable. "Delete the key after the commit" is not enough:

    reader: cache miss -> loads the OLD row from PostgreSQL ..........-> SET key old_row
    writer:                      UPDATE, COMMIT -> DEL key

The reader's SET lands after the writer's DEL, and the old row is served until the TTL ends.
So the key names a **generation**: ``invalidate`` increments a counter in Redis, and a reader
reads the generation *before* it loads and stores what it loaded under the key of *that*
generation. A reader that loaded the old row stores it under the old generation, which nobody
reads any more; readers after the write use the new one. Each product has a generation; the
cached pages share one more, because a change of any product changes the page it is on.

Redis is an optimisation, never a dependency: when a Redis command fails (``redis.RedisError``),
a read loads from the database instead (and logs a warning), and a write still succeeds.

- ``ProductCache``: that cache, in Redis, with a TTL on every stored value;
- ``CatalogService``: the catalog's use cases; reads go through the cache, writes commit in a
  UnitOfWork and invalidate in an after-commit callback (invalidating BEFORE the commit would
  let a reader re-cache the old row under the new generation). Pages are keyset pages: the
  products with an id above the last one seen, in id order, never ``OFFSET``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import select  # noqa: F401 - you will need it
from sqlalchemy.orm import Session, sessionmaker

from .unit_of_work import DuplicateSku, Product, UnitOfWork  # noqa: F401 - you will need them

__all__ = [
    "CatalogService",
    "DuplicateSku",
    "ProductCache",
    "ProductNotFound",
    "ProductPage",
    "ProductView",
]

DEFAULT_TTL_SECONDS = 300
MAX_PAGE_SIZE = 100

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProductView:
    """What readers get: a plain value, safe to cache and to use after the session closed."""

    id: int
    sku: str
    name: str
    description: str
    price_cents: int
    created_at: datetime
    updated_at: datetime
    # True for a copy read back from the cache (the catalog answers X-Cache: hit); it is not
    # part of the value, so it takes no part in ==
    from_cache: bool = field(default=False, compare=False)

    @classmethod
    def of(cls, product: Product) -> ProductView:
        return cls(
            id=product.id,
            sku=product.sku,
            name=product.name,
            description=product.description,
            price_cents=product.price_cents,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """The value as JSON types (the timestamps in ISO 8601)."""
        return {
            "id": self.id,
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "price_cents": self.price_cents,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, from_cache: bool = False) -> ProductView:
        return cls(
            id=data["id"],
            sku=data["sku"],
            name=data["name"],
            description=data["description"],
            price_cents=data["price_cents"],
            created_at=datetime.fromisoformat(data["created_at"]),
            updated_at=datetime.fromisoformat(data["updated_at"]),
            from_cache=from_cache,
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> ProductView:
        """A view read back from the cache: its ``from_cache`` is True."""
        return cls.from_dict(json.loads(text), from_cache=True)


@dataclass(frozen=True)
class ProductPage:
    """Up to ``limit`` products in id order, and where the next page starts.

    ``next_after`` is the last item's id when another page follows (pass it as ``after_id``),
    None on the last page.
    """

    items: tuple[ProductView, ...]
    next_after: int | None
    from_cache: bool = field(default=False, compare=False)

    def to_json(self) -> str:
        body = {"items": [item.to_dict() for item in self.items], "next_after": self.next_after}
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> ProductPage:
        """A page read back from the cache: it and its items say ``from_cache``."""
        body = json.loads(text)
        items = tuple(ProductView.from_dict(item, from_cache=True) for item in body["items"])
        return cls(items=items, next_after=body["next_after"], from_cache=True)


class ProductNotFound(LookupError):
    """No product has this id."""


class ProductCache:
    """Race-free cache-aside for products and pages in Redis: JSON strings under generation keys.

    ``client`` is a ``redis.Redis`` with ``decode_responses=True``; every key starts with
    ``prefix``. ValueError (message with "ttl") when ``ttl_seconds`` is not positive (1 is
    fine). The generations live in Redis, never in this object: several processes with a
    ProductCache on the same prefix share one cache.

    When Redis is down, reads load from the database (nothing is stored) and an invalidation
    cannot be made. The object remembers such an invalidation and makes it before it uses the
    cache again; until Redis takes it, reads go to the database. Otherwise a value cached
    before the write would be served once Redis is back.
    """

    def __init__(
        self, client: redis.Redis, prefix: str, ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        raise NotImplementedError("04.9: check the TTL, keep the client, prefix and ttl_seconds")

    def generation_key(self, product_id: int) -> str:
        """Where the product's generation counter lives.

        ``f"{prefix}:product:{product_id}:generation"``.

        It has no TTL: if it expired, the count would start again at 0, and an old entry of a
        generation that comes round again could be served.
        """
        raise NotImplementedError("04.9: build the key from the prefix")

    def key(self, product_id: int, generation: int) -> str:
        """The key of the product's value in a generation.

        ``f"{prefix}:product:{product_id}:g{generation}"``
        """
        raise NotImplementedError("04.9: build the key from the prefix")

    def pages_generation_key(self) -> str:
        """Where the pages' generation counter lives: ``f"{prefix}:pages:generation"``."""
        raise NotImplementedError("04.9: build the key from the prefix")

    def page_key(self, generation: int, limit: int, after_id: int) -> str:
        """The key of a page in a generation.

        ``f"{prefix}:pages:g{generation}:{limit}:{after_id}"``
        """
        raise NotImplementedError("04.9: build the key from the prefix")

    def generation(self, product_id: int) -> int:
        """The product's current generation: the counter's value, 0 while it does not exist."""
        raise NotImplementedError("04.9: GET the generation key")

    def pages_generation(self) -> int:
        """The pages' current generation, 0 while the counter does not exist."""
        raise NotImplementedError("04.9: GET the pages' generation key")

    def get_or_load(
        self, product_id: int, loader: Callable[[int], ProductView | None]
    ) -> ProductView | None:
        """The cached product; on a miss, ``loader(product_id)``, stored with the TTL.

        Reads the generation first, then the value under ``key(product_id, generation)``; a hit
        is ``ProductView.from_json(value)``. On a miss, stores what the loader returned under
        that same key, read before the loader ran. A None from the loader (no such product) is
        returned but NOT cached. Redis failing: the loader's answer, and no exception.
        """
        raise NotImplementedError(
            "04.9: generation, GET; on a miss load, then SET key value EX ttl"
        )

    def get_or_load_page(
        self, limit: int, after_id: int, loader: Callable[[], ProductPage]
    ) -> ProductPage:
        """The cached page; on a miss, ``loader()``, stored with the TTL under
        ``page_key(pages_generation(), limit, after_id)``; exactly like ``get_or_load``."""
        raise NotImplementedError("04.9: get_or_load, for a page")

    def invalidate(self, product_id: int) -> None:
        """After a committed change of the product: increments (INCR) its generation AND the
        pages' generation, so its cached value and every cached page are never read again."""
        raise NotImplementedError("04.9: INCR both generation keys")

    def invalidate_pages(self) -> None:
        """After a product was added: increments the pages' generation only."""
        raise NotImplementedError("04.9: INCR the pages' generation key")


class CatalogService:
    """The catalog's use cases: reads through the cache, writes invalidate after commit.

    Each method runs its own UnitOfWork from ``session_factory``; build the views inside it
    (once the unit of work is closed, the products' attributes can no longer be loaded).
    """

    def __init__(self, session_factory: sessionmaker[Session], cache: ProductCache) -> None:
        self._session_factory = session_factory
        self._cache = cache

    def create_product(
        self, sku: str, name: str, price_cents: int, description: str = ""
    ) -> ProductView:
        """Adds and commits a product; DuplicateSku / ValueError as ProductRepository.add.

        Every cached page is invalidated after the commit: the new product is on the last one.
        """
        raise NotImplementedError("04.9: a unit of work that adds, commits and returns a view")

    def get_product(self, product_id: int) -> ProductView | None:
        """The product, through ``cache.get_or_load``; None when it does not exist."""
        raise NotImplementedError("04.9: cache.get_or_load with a loader that reads the database")

    def update_product(
        self,
        product_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        price_cents: int | None = None,
    ) -> ProductView:
        """Changes the given fields (None: unchanged) and commits; the cache is invalidated
        after the commit. The database sets ``updated_at`` (flush before you make the view).

        ProductNotFound for an unknown id; ValueError (message with "negative") for a negative
        price; in both cases nothing changes.
        """
        raise NotImplementedError("04.9: update in a unit of work, after_commit(invalidate)")

    def delete_product(self, product_id: int) -> None:
        """Deletes the product and commits; the cache is invalidated after the commit.
        ProductNotFound for an unknown id."""
        raise NotImplementedError("04.9: session.delete in a unit of work, after_commit(...)")

    def page(self, limit: int, after_id: int = 0) -> ProductPage:
        """Up to ``limit`` products with an id above ``after_id`` (0: from the first), in id
        order, through ``cache.get_or_load_page``.

        ``next_after`` is the last item's id when more products follow, None on the last
        page (select limit + 1 rows: the extra one only says whether more follow).
        ValueError (message with "limit") unless 1 <= limit <= MAX_PAGE_SIZE; ValueError for a
        negative after_id.
        """
        raise NotImplementedError("04.9: WHERE id > after_id ORDER BY id LIMIT limit + 1")

"""04.9 (capstone piece) — a race-free cache-aside product store.

Builds on your unit of work from 04.8 (``unit_of_work.py`` beside this file): do that first.

Cache-aside: read the cache; on a miss, load from the database and store the value with a TTL;
a write makes the cached value unreachable. "Delete the key after the commit" is not enough:

    reader: cache miss -> loads the OLD row from PostgreSQL ..........-> SET key old_row
    writer:                      UPDATE, COMMIT -> DEL key

The reader's SET lands after the writer's DEL, and the old row is served until the TTL ends.
So the key names a **generation** of the product: ``invalidate`` increments a counter in Redis
(``generation_key``), and a reader reads the generation *before* it loads and stores what it
loaded under the key of *that* generation. A reader that loaded the old row stores it under the
old generation, which nobody reads any more; readers after the write use the new one.

- ``ProductCache``: that cache, in Redis, with a TTL on every stored value;
- ``CatalogService``: the catalog's use cases; reads go through ``cache.get_or_load``, writes
  commit in a UnitOfWork and invalidate in an after-commit callback (invalidating BEFORE the
  commit would let a reader re-cache the old row under the new generation).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis
from sqlalchemy.orm import Session, sessionmaker

from .unit_of_work import DuplicateSku, Product, UnitOfWork  # noqa: F401 - you will need them

__all__ = ["CatalogService", "DuplicateSku", "ProductCache", "ProductNotFound", "ProductView"]

DEFAULT_TTL_SECONDS = 300


@dataclass(frozen=True)
class ProductView:
    """What readers get: a plain value, safe to cache and to use after the session closed."""

    id: int
    sku: str
    name: str
    price_cents: int

    @classmethod
    def of(cls, product: Product) -> ProductView:
        return cls(
            id=product.id, sku=product.sku, name=product.name, price_cents=product.price_cents
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> ProductView:
        return cls(**json.loads(text))


class ProductNotFound(LookupError):
    """No product has this id."""


class ProductCache:
    """Race-free cache-aside for products in Redis: one JSON string per product and generation.

    ``client`` is a ``redis.Redis`` with ``decode_responses=True``; every key starts with
    ``prefix``. ValueError (message with "ttl") when ``ttl_seconds`` is not positive (1 is
    fine). Everything the cache knows lives in Redis, none of it in this object: several
    processes with a ProductCache on the same prefix share one cache.
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

    def generation(self, product_id: int) -> int:
        """The product's current generation: the counter's value, 0 while it does not exist."""
        raise NotImplementedError("04.9: GET the generation key")

    def get_or_load(
        self, product_id: int, loader: Callable[[int], ProductView | None]
    ) -> ProductView | None:
        """The cached product; on a miss, ``loader(product_id)``, stored with the TTL.

        Reads the generation first, then the value under ``key(product_id, generation)``; on a
        miss, stores what the loader returned under that same key, read before the loader ran.
        A None from the loader (no such product) is returned but NOT cached.
        """
        raise NotImplementedError(
            "04.9: generation, GET; on a miss load, then SET key value EX ttl"
        )

    def invalidate(self, product_id: int) -> None:
        """Makes every value cached so far unreachable: increments the generation (INCR)."""
        raise NotImplementedError("04.9: INCR the generation key")


class CatalogService:
    """The catalog's use cases: reads through the cache, writes invalidate after commit.

    Each method runs its own UnitOfWork from ``session_factory``.
    """

    def __init__(self, session_factory: sessionmaker[Session], cache: ProductCache) -> None:
        self._session_factory = session_factory
        self._cache = cache

    def create_product(self, sku: str, name: str, price_cents: int) -> ProductView:
        """Adds and commits a product; DuplicateSku / ValueError as ProductRepository.add."""
        raise NotImplementedError("04.9: a unit of work that adds, commits and returns a view")

    def get_product(self, product_id: int) -> ProductView | None:
        """The product, through ``cache.get_or_load``; None when it does not exist."""
        raise NotImplementedError("04.9: cache.get_or_load with a loader that reads the database")

    def change_price(self, product_id: int, price_cents: int) -> ProductView:
        """Sets a new price and commits; the cache is invalidated after the commit.

        ProductNotFound for an unknown id; ValueError (message with "negative") for a negative
        price; in both cases nothing changes.
        """
        raise NotImplementedError("04.9: update in a unit of work, after_commit(invalidate)")

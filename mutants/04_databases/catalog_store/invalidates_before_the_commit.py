"""Invalidates the cache before the commit, so a reader in between re-caches the old price.

04.9 (capstone piece) — a race-free cache-aside product store.

- ``ProductCache`` is cache-aside in Redis: read the cache; on a miss load from the database
  and store the value with a TTL. A write does not delete the cached value: it bumps the
  product's *generation*, a counter that is part of the key, so an entry stored from a read
  that started before the write is stored under the old generation, where nobody looks.
- ``CatalogService`` joins it with the unit of work of 04.8: reads go through the cache,
  writes commit, and only then bump the generation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import redis
from sqlalchemy.orm import Session, sessionmaker

from .unit_of_work import DuplicateSku, Product, UnitOfWork

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
    """Cache-aside for products in Redis: one JSON string per product and generation, with a TTL."""

    def __init__(
        self, client: redis.Redis, prefix: str, ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"the ttl must be positive, not {ttl_seconds}")
        self._client = client
        self._prefix = prefix
        self.ttl_seconds = ttl_seconds

    def generation_key(self, product_id: int) -> str:
        return f"{self._prefix}:product:{product_id}:generation"

    def key(self, product_id: int, generation: int) -> str:
        return f"{self._prefix}:product:{product_id}:g{generation}"

    def generation(self, product_id: int) -> int:
        """The product's current generation: 0 until its first invalidation."""
        value = self._client.get(self.generation_key(product_id))
        return 0 if value is None else int(value)

    def get_or_load(
        self, product_id: int, loader: Callable[[int], ProductView | None]
    ) -> ProductView | None:
        """The cached product, or the loader's answer (cached with the TTL unless None)."""
        # Read the generation BEFORE loading: if a write commits while we load, it bumps the
        # generation, and what we store below lands under the old one, never read again.
        key = self.key(product_id, self.generation(product_id))
        cached = self._client.get(key)
        if cached is not None:
            return ProductView.from_json(cached)
        view = loader(product_id)
        if view is not None:
            # the TTL clears entries of old generations, and bounds staleness if a bump is lost
            self._client.set(key, view.to_json(), ex=self.ttl_seconds)
        return view

    def invalidate(self, product_id: int) -> None:
        """Bumps the generation: every entry cached so far is never read again."""
        self._client.incr(self.generation_key(product_id))


class CatalogService:
    """The catalog's use cases: reads through the cache, writes invalidate after commit."""

    def __init__(self, session_factory: sessionmaker[Session], cache: ProductCache) -> None:
        self._session_factory = session_factory
        self._cache = cache

    def create_product(self, sku: str, name: str, price_cents: int) -> ProductView:
        with UnitOfWork(self._session_factory) as uow:
            product = uow.products.add(sku, name, price_cents)
            view = ProductView.of(product)
            uow.commit()
        return view

    def get_product(self, product_id: int) -> ProductView | None:
        return self._cache.get_or_load(product_id, self._load)

    def change_price(self, product_id: int, price_cents: int) -> ProductView:
        """Sets a new price; ProductNotFound / ValueError; the cache is invalidated after commit."""
        if price_cents < 0:
            raise ValueError(f"a price cannot be negative ({price_cents})")
        with UnitOfWork(self._session_factory) as uow:
            product = uow.products.get(product_id)
            if product is None:
                raise ProductNotFound(f"there is no product with id {product_id}")
            product.price_cents = price_cents
            view = ProductView.of(product)
            # invalidating before the commit would let a reader re-cache the old price
            self._cache.invalidate(product_id)
            uow.commit()
        return view

    def _load(self, product_id: int) -> ProductView | None:
        with UnitOfWork(self._session_factory) as uow:
            product = uow.products.get(product_id)
            return None if product is None else ProductView.of(product)

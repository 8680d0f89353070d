"""Accepts a negative after_id: page(limit, -1) answers the first page instead of a ValueError.

04.9 (capstone piece) — the catalog's product store: race-free cache-aside, keyset pages.

- ``ProductCache`` is cache-aside in Redis: read the cache; on a miss load from the database
  and store the value with a TTL. A write does not delete cached values: it bumps a
  *generation*, a counter that is part of the key, so a value stored from a read that started
  before the write is stored under the old generation, where nobody looks. Each product has
  its own generation; the cached pages share one, which every write bumps.
- Redis is an optimisation, never a dependency: when it fails, a read goes to the database,
  and an invalidation Redis refused is made before the cache is used again.
- ``CatalogService`` joins it with the unit of work of 04.8: reads go through the cache,
  writes commit, and only then bump the generations. Pages are keyset pages in id order.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .unit_of_work import DuplicateSku, Product, UnitOfWork

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


class _Cacheable(Protocol):
    def to_json(self) -> str: ...


_C = TypeVar("_C", bound=_Cacheable)


class ProductCache:
    """Cache-aside for products and pages in Redis: JSON strings under generation keys, with a TTL.

    Several processes with a ProductCache on the same prefix share one cache: the generations
    live in Redis. The only thing an object keeps is the invalidations Redis refused (it was
    down), which it makes before it uses the cache again.
    """

    def __init__(
        self, client: redis.Redis, prefix: str, ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"the ttl must be positive, not {ttl_seconds}")
        self._client = client
        self._prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._unbumped: set[str] = set()  # generation keys whose INCR failed
        self._unbumped_lock = threading.Lock()

    def generation_key(self, product_id: int) -> str:
        return f"{self._prefix}:product:{product_id}:generation"

    def key(self, product_id: int, generation: int) -> str:
        return f"{self._prefix}:product:{product_id}:g{generation}"

    def pages_generation_key(self) -> str:
        return f"{self._prefix}:pages:generation"

    def page_key(self, generation: int, limit: int, after_id: int) -> str:
        return f"{self._prefix}:pages:g{generation}:{limit}:{after_id}"

    def generation(self, product_id: int) -> int:
        """The product's current generation: 0 until its first invalidation."""
        return self._counter(self.generation_key(product_id))

    def pages_generation(self) -> int:
        """The generation of every cached page: 0 until the first write."""
        return self._counter(self.pages_generation_key())

    def get_or_load(
        self, product_id: int, loader: Callable[[int], ProductView | None]
    ) -> ProductView | None:
        """The cached product, or the loader's answer (cached with the TTL unless None)."""
        return self._get_or_load(
            lambda: self.key(product_id, self.generation(product_id)),
            lambda: loader(product_id),
            ProductView.from_json,
        )

    def get_or_load_page(
        self, limit: int, after_id: int, loader: Callable[[], ProductPage]
    ) -> ProductPage:
        """The cached page, or the loader's answer (cached with the TTL)."""
        page = self._get_or_load(
            lambda: self.page_key(self.pages_generation(), limit, after_id),
            loader,
            ProductPage.from_json,
        )
        assert page is not None  # the loader always answers a page, perhaps an empty one
        return page

    def invalidate(self, product_id: int) -> None:
        """After a committed change of the product: its cached entry and every cached page are
        never read again (the page it is on has changed too)."""
        self._bump(self.generation_key(product_id), self.pages_generation_key())

    def invalidate_pages(self) -> None:
        """After a product was added: every cached page is never read again (the last one
        has a new item)."""
        self._bump(self.pages_generation_key())

    def _get_or_load(
        self,
        current_key: Callable[[], str],
        load: Callable[[], _C | None],
        parse: Callable[[str | bytes], _C],
    ) -> _C | None:
        try:
            self._catch_up()
            # Read the generation BEFORE loading: if a write commits while we load, it bumps the
            # generation, and what we store below lands under the old one, never read again.
            key = current_key()
            cached = self._client.get(key)
        except redis.RedisError as error:
            log.warning("cache unavailable, reading the database: %r", error)
            return load()
        if cached is not None:
            return parse(cached)
        value = load()
        if value is not None:
            try:
                # the TTL clears entries of old generations
                self._client.set(key, value.to_json(), ex=self.ttl_seconds)
            except redis.RedisError as error:
                log.warning("cache unavailable, not filled: %r", error)
        return value

    def _counter(self, key: str) -> int:
        value = self._client.get(key)
        return 0 if value is None else int(value)

    def _bump(self, *generation_keys: str) -> None:
        try:
            for key in generation_keys:
                self._client.incr(key)
        except redis.RedisError as error:
            # The write is committed; forgetting its invalidation would let the cache serve the
            # old value once Redis is back. Bumping a key twice is harmless, so keep them all.
            with self._unbumped_lock:
                self._unbumped.update(generation_keys)
            log.warning("cache unavailable, invalidation postponed: %r", error)

    def _catch_up(self) -> None:
        """Makes the postponed invalidations; RedisError (the cache is not used) while Redis
        still refuses them."""
        if not self._unbumped:
            return
        # under the lock: a reader never uses the cache while an invalidation is still pending
        with self._unbumped_lock:
            for key in sorted(self._unbumped):
                self._client.incr(key)
                self._unbumped.discard(key)


class CatalogService:
    """The catalog's use cases: reads through the cache, writes invalidate after commit."""

    def __init__(self, session_factory: sessionmaker[Session], cache: ProductCache) -> None:
        self._session_factory = session_factory
        self._cache = cache

    def create_product(
        self, sku: str, name: str, price_cents: int, description: str = ""
    ) -> ProductView:
        """Adds a product; ValueError for a negative price, DuplicateSku for a taken SKU."""
        with UnitOfWork(self._session_factory) as uow:
            product = uow.products.add(sku, name, price_cents)
            if description:
                product.description = description
                uow.session.flush()
            view = ProductView.of(product)
            # a new product joins the last page: no cached page may hide it
            uow.after_commit(self._cache.invalidate_pages)
            uow.commit()
        return view

    def get_product(self, product_id: int) -> ProductView | None:
        return self._cache.get_or_load(product_id, self._load)

    def update_product(
        self,
        product_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        price_cents: int | None = None,
    ) -> ProductView:
        """Changes the given fields (None: unchanged); ProductNotFound, or ValueError for a
        negative price. The cache is invalidated after the commit."""
        if price_cents is not None and price_cents < 0:
            raise ValueError(f"a price cannot be negative ({price_cents})")
        with UnitOfWork(self._session_factory) as uow:
            product = self._existing(uow, product_id)
            if name is not None:
                product.name = name
            if description is not None:
                product.description = description
            if price_cents is not None:
                product.price_cents = price_cents
            uow.session.flush()  # the UPDATE sets updated_at (read back when the view is made)
            view = ProductView.of(product)
            # invalidating before the commit would let a reader re-cache the old row
            uow.after_commit(lambda: self._cache.invalidate(product_id))
            uow.commit()
        return view

    def delete_product(self, product_id: int) -> None:
        """Removes the product; ProductNotFound. The cache is invalidated after the commit."""
        with UnitOfWork(self._session_factory) as uow:
            uow.session.delete(self._existing(uow, product_id))
            uow.after_commit(lambda: self._cache.invalidate(product_id))
            uow.commit()

    def page(self, limit: int, after_id: int = 0) -> ProductPage:
        """Up to ``limit`` products with an id above ``after_id`` (0: from the first), in id
        order; ValueError unless 1 <= limit <= MAX_PAGE_SIZE and after_id >= 0."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"the limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
        return self._cache.get_or_load_page(
            limit, after_id, lambda: self._load_page(limit, after_id)
        )

    def _load(self, product_id: int) -> ProductView | None:
        with UnitOfWork(self._session_factory) as uow:
            product = uow.products.get(product_id)
            return None if product is None else ProductView.of(product)

    def _load_page(self, limit: int, after_id: int) -> ProductPage:
        # Keyset: start after the last id seen, never skip rows with OFFSET. One row more than
        # asked says whether another page follows.
        query = select(Product).where(Product.id > after_id).order_by(Product.id).limit(limit + 1)
        with UnitOfWork(self._session_factory) as uow:
            rows = uow.session.scalars(query).all()
            items = tuple(ProductView.of(product) for product in rows[:limit])
        next_after = items[-1].id if len(rows) > limit else None
        return ProductPage(items=items, next_after=next_after)

    @staticmethod
    def _existing(uow: UnitOfWork, product_id: int) -> Product:
        product = uow.products.get(product_id)
        if product is None:
            raise ProductNotFound(f"there is no product with id {product_id}")
        return product

"""Invalidates the cached product before the commit, so a reader in between re-caches the old price.

04.7 (capstone piece) — repository, unit of work, and a cache-aside product store.

The capstone's catalog service is built from these parts:

- ``ProductRepository`` turns product questions into queries on one Session;
- ``UnitOfWork`` owns that Session and its transaction: commit explicitly, roll back otherwise,
  and run "after commit" callbacks only once the data is visible to everyone;
- ``ProductCache`` is cache-aside in Redis: read the cache, on a miss load from the database and
  store the value with a TTL; a write invalidates the key;
- ``CatalogService`` joins them: reads go through the cache, writes invalidate it after commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Self

import redis
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

DEFAULT_TTL_SECONDS = 300


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int]


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


class DuplicateSku(ValueError):
    """Another product already has this SKU."""


class ProductRepository:
    """Products through one Session; it flushes but never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, sku: str, name: str, price_cents: int) -> Product:
        """Adds a product; ValueError for a negative price, DuplicateSku for a taken SKU.

        A failed insert must not spoil the caller's unit of work, so it runs in a SAVEPOINT:
        only the savepoint rolls back, and everything added before it can still be committed.
        """
        if price_cents < 0:
            raise ValueError(f"a price cannot be negative ({price_cents})")
        product = Product(sku=sku, name=name, price_cents=price_cents)
        try:
            with self.session.begin_nested():
                self.session.add(product)
        except IntegrityError as error:
            raise DuplicateSku(f"SKU {sku!r} is already taken") from error
        return product

    def get(self, product_id: int) -> Product | None:
        return self.session.get(Product, product_id)

    def list_all(self, limit: int = 50) -> list[Product]:
        """Up to ``limit`` products, by id."""
        return list(self.session.scalars(select(Product).order_by(Product.id).limit(limit)))


class UnitOfWork:
    """One Session, one transaction: ``with UnitOfWork(factory) as uow: ...; uow.commit()``.

    Leaving the block without commit() rolls back, so forgetting to commit loses the work
    instead of half-saving it; an exception in the block rolls back and propagates.
    """

    products: ProductRepository
    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.products = ProductRepository(self.session)
        self._after_commit = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.rollback()  # a no-op after commit(); discards anything left uncommitted
        finally:
            self.session.close()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Runs ``callback`` after the next successful commit; dropped on rollback."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self._after_commit = []
        self.session.rollback()


class ProductCache:
    """Cache-aside for products in Redis: one JSON string per product, with a TTL."""

    def __init__(
        self, client: redis.Redis, prefix: str, ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"the ttl must be positive, not {ttl_seconds}")
        self._client = client
        self._prefix = prefix
        self.ttl_seconds = ttl_seconds

    def key(self, product_id: int) -> str:
        return f"{self._prefix}:product:{product_id}"

    def get_or_load(
        self, product_id: int, loader: Callable[[int], ProductView | None]
    ) -> ProductView | None:
        """The cached product, or the loader's answer (cached with the TTL unless None)."""
        cached = self._client.get(self.key(product_id))
        if cached is not None:
            return ProductView.from_json(cached)
        view = loader(product_id)
        if view is not None:
            # the TTL bounds how stale an entry can get if an invalidation is ever lost
            self._client.set(self.key(product_id), view.to_json(), ex=self.ttl_seconds)
        return view

    def invalidate(self, product_id: int) -> None:
        self._client.delete(self.key(product_id))


class CatalogService:
    """The catalog's use cases: reads through the cache, writes invalidate after commit."""

    def __init__(self, session_factory: sessionmaker[Session], cache: ProductCache) -> None:
        self._session_factory = session_factory
        self._cache = cache

    def create_product(self, sku: str, name: str, price_cents: int) -> ProductView:
        with UnitOfWork(self._session_factory) as uow:
            product = uow.products.add(sku, name, price_cents)
            uow.session.flush()
            view = ProductView.of(product)
            uow.commit()
        return view

    def get_product(self, product_id: int) -> ProductView | None:
        return self._cache.get_or_load(product_id, self._load)

    def change_price(self, product_id: int, price_cents: int) -> ProductView:
        """Sets a new price; ProductNotFound / ValueError; the cached copy goes after commit."""
        if price_cents < 0:
            raise ValueError(f"a price cannot be negative ({price_cents})")
        with UnitOfWork(self._session_factory) as uow:
            product = uow.products.get(product_id)
            if product is None:
                raise ProductNotFound(f"there is no product with id {product_id}")
            product.price_cents = price_cents
            view = ProductView.of(product)
            self._cache.invalidate(product_id)
            uow.commit()
        return view

    def _load(self, product_id: int) -> ProductView | None:
        with UnitOfWork(self._session_factory) as uow:
            product = uow.products.get(product_id)
            return None if product is None else ProductView.of(product)

"""04.7 (capstone piece) — repository, unit of work, and a cache-aside product store.

The capstone's catalog service is built from these parts:

- ``ProductRepository`` turns product questions into queries on one Session; it flushes but
  never commits;
- ``UnitOfWork`` owns that Session and its transaction: ``commit()`` explicitly; leaving the
  ``with`` block without it (or with an exception) rolls back; callbacks registered with
  ``after_commit`` run only once the data is committed and visible to everyone;
- ``ProductCache`` is cache-aside in Redis: read the key; on a miss call the loader and store
  its answer as JSON with a TTL; ``invalidate`` deletes the key;
- ``CatalogService`` joins them: reads go through the cache, writes invalidate it AFTER the
  commit (invalidating before it would let a concurrent reader re-cache the old value).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Self

import redis
from sqlalchemy import String
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
        """Adds a product and flushes it (so it has an id).

        ValueError (message with "negative") for a negative price. DuplicateSku when the SKU
        is taken, and then the caller's unit of work must still be usable: what was added
        before can be committed.
        (A failed INSERT aborts a PostgreSQL transaction; a SAVEPOINT,
        ``session.begin_nested()``, limits the damage to this one insert.)
        """
        raise NotImplementedError("04.7: insert inside a savepoint, IntegrityError -> DuplicateSku")

    def get(self, product_id: int) -> Product | None:
        """The product with this id, or None."""
        raise NotImplementedError("04.7: session.get")

    def list_all(self, limit: int = 50) -> list[Product]:
        """Up to ``limit`` products, by id."""
        raise NotImplementedError("04.7: select(Product).order_by(Product.id).limit(limit)")


class UnitOfWork:
    """One Session, one transaction::

        with UnitOfWork(session_factory) as uow:
            uow.products.add(...)
            uow.commit()

    ``__enter__`` opens ``self.session`` from the factory and sets ``self.products`` to a
    ProductRepository on it. ``__exit__`` rolls back whatever was not committed (so forgetting
    ``commit()`` loses the work instead of half-saving it), closes the session, and lets any
    exception propagate.
    """

    products: ProductRepository
    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> Self:
        raise NotImplementedError("04.7: open the session, build the repository, return self")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        raise NotImplementedError("04.7: roll back what is left and close the session")

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Runs ``callback`` once, after the next successful commit; rollback() drops it."""
        raise NotImplementedError("04.7: remember the callback")

    def commit(self) -> None:
        """Commits the session, then runs (and forgets) the after-commit callbacks in order."""
        raise NotImplementedError("04.7: session.commit(), then the callbacks")

    def rollback(self) -> None:
        """Rolls the session back and drops the pending after-commit callbacks."""
        raise NotImplementedError("04.7: drop the callbacks, session.rollback()")


class ProductCache:
    """Cache-aside for products in Redis: one JSON string per product, with a TTL.

    ``client`` is a ``redis.Redis`` with ``decode_responses=True``; every key starts with
    ``prefix``. ValueError (message with "ttl") when ``ttl_seconds`` is not positive.
    """

    def __init__(
        self, client: redis.Redis, prefix: str, ttl_seconds: int = DEFAULT_TTL_SECONDS
    ) -> None:
        raise NotImplementedError("04.7: check the TTL, keep the client, prefix and ttl_seconds")

    def key(self, product_id: int) -> str:
        """The product's key: ``f"{prefix}:product:{product_id}"``."""
        raise NotImplementedError("04.7: build the key from the prefix")

    def get_or_load(
        self, product_id: int, loader: Callable[[int], ProductView | None]
    ) -> ProductView | None:
        """The cached product; on a miss, ``loader(product_id)``, stored with the TTL.

        A None from the loader (no such product) is returned but NOT cached.
        """
        raise NotImplementedError("04.7: GET; on a miss load, then SET key value EX ttl")

    def invalidate(self, product_id: int) -> None:
        """Deletes the product's cached entry (a no-op when it is not cached)."""
        raise NotImplementedError("04.7: DEL the key")


class CatalogService:
    """The catalog's use cases: reads through the cache, writes invalidate after commit.

    Each method runs its own UnitOfWork from ``session_factory``.
    """

    def __init__(self, session_factory: sessionmaker[Session], cache: ProductCache) -> None:
        self._session_factory = session_factory
        self._cache = cache

    def create_product(self, sku: str, name: str, price_cents: int) -> ProductView:
        """Adds and commits a product; DuplicateSku / ValueError as ProductRepository.add."""
        raise NotImplementedError("04.7: a unit of work that adds, commits and returns a view")

    def get_product(self, product_id: int) -> ProductView | None:
        """The product, served from the cache when it is there; None when it does not exist."""
        raise NotImplementedError("04.7: cache.get_or_load with a loader that reads the database")

    def change_price(self, product_id: int, price_cents: int) -> ProductView:
        """Sets a new price and commits; the cached copy is invalidated after the commit.

        ProductNotFound for an unknown id; ValueError (message with "negative") for a negative
        price; in both cases nothing changes.
        """
        raise NotImplementedError("04.7: update in a unit of work, after_commit(invalidate)")

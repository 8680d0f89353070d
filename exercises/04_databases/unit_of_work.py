"""04.8 — A repository and a unit of work for products (the first half of the capstone piece).

- ``ProductRepository`` turns product questions into queries on one Session; it flushes but
  never commits;
- ``UnitOfWork`` owns that Session and its transaction: ``commit()`` explicitly; leaving the
  ``with`` block without it (or with an exception) rolls back; callbacks registered with
  ``after_commit`` run only once the data is committed and visible to everyone.

Exercise 04.9 builds the catalog's cache-aside store on top of these two.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import BigInteger, DateTime, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Product(Base):
    """The catalog's product table (the capstone's catalog service runs on this model)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    price_cents: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class DuplicateSku(ValueError):
    """Another product already has this SKU."""


class ProductRepository:
    """Products through one Session; it flushes but never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, sku: str, name: str, price_cents: int) -> Product:
        """Adds a product and flushes it (so it has an id).

        A price of 0 is fine; ValueError (message with "negative") for a negative price.
        DuplicateSku when the SKU is taken, and then the caller's unit of work must still be
        usable: what was added before can be committed.
        (A failed INSERT aborts a PostgreSQL transaction; a SAVEPOINT,
        ``session.begin_nested()``, limits the damage to this one insert.)
        """
        raise NotImplementedError("04.8: insert inside a savepoint, IntegrityError -> DuplicateSku")

    def get(self, product_id: int) -> Product | None:
        """The product with this id, or None."""
        raise NotImplementedError("04.8: session.get")

    def list_all(self, limit: int = 50) -> list[Product]:
        """Up to ``limit`` products, by id."""
        raise NotImplementedError("04.8: select(Product).order_by(Product.id).limit(limit)")


class UnitOfWork:
    """One Session, one transaction::

        with UnitOfWork(session_factory) as uow:
            uow.products.add(...)
            uow.commit()

    ``__enter__`` opens ``self.session`` from the factory and sets ``self.products`` to a
    ProductRepository on it. ``__exit__`` rolls back whatever was not committed (so forgetting
    ``commit()`` loses the work instead of half-saving it), closes the session (which gives
    its connection back to the engine's pool), and lets any exception propagate.
    """

    products: ProductRepository
    session: Session

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> Self:
        raise NotImplementedError("04.8: open the session, build the repository, return self")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        raise NotImplementedError("04.8: roll back what is left and close the session")

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Runs ``callback`` once, after the next successful commit; rollback() drops it."""
        raise NotImplementedError("04.8: remember the callback")

    def commit(self) -> None:
        """Commits the session, then runs the after-commit callbacks in order.

        Each callback runs once: a second ``commit()`` (of more work in the same unit) runs
        only the callbacks registered since the first.
        """
        raise NotImplementedError("04.8: session.commit(), then the callbacks, then forget them")

    def rollback(self) -> None:
        """Rolls the session back and drops the pending after-commit callbacks."""
        raise NotImplementedError("04.8: drop the callbacks, session.rollback()")

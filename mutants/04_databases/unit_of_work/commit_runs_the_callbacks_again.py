"""Runs the after-commit callbacks without forgetting them: a second commit runs them twice.

04.8 — A repository and a unit of work for products (the first half of the capstone piece).

- ``ProductRepository`` turns product questions into queries on one Session; it flushes but
  never commits;
- ``UnitOfWork`` owns that Session and its transaction: commit explicitly, roll back
  otherwise, and run "after commit" callbacks only once the data is visible to everyone.

Exercise 04.9 builds the catalog's cache-aside store on top of these two.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import BigInteger, DateTime, String, Text, func, select
from sqlalchemy.exc import IntegrityError
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
        """Adds a product; ValueError for a negative price, DuplicateSku for a taken SKU.

        A failed insert must not spoil the caller's unit of work, so it runs in a SAVEPOINT:
        only the savepoint rolls back, and everything added before it can still be committed.
        """
        if price_cents < 0:
            raise ValueError(f"a price cannot be negative ({price_cents})")
        product = Product(sku=sku, name=name, price_cents=price_cents)
        try:
            with self.session.begin_nested():  # flushes the INSERT when the block ends
                self.session.add(product)
        except IntegrityError as error:
            raise DuplicateSku(f"SKU {sku!r} is already taken") from error
        return product

    def get(self, product_id: int) -> Product | None:
        """The product with this id, or None."""
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
            self.session.close()  # gives the connection back to the engine's pool

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Runs ``callback`` after the next successful commit; dropped on rollback."""
        self._after_commit.append(callback)

    def commit(self) -> None:
        """Commits, then runs the after-commit callbacks once each, in order."""
        self.session.commit()
        # take the list before running it: a second commit() must not run them again
        for callback in self._after_commit:
            callback()

    def rollback(self) -> None:
        """Rolls the session back and drops the pending after-commit callbacks."""
        self._after_commit = []
        self.session.rollback()

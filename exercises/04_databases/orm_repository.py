"""04.3 — SQLAlchemy 2 typed models with a relationship, and a repository over a Session.

Part 1, the models. ``Author`` and ``Book`` are declared with their plain columns; link them:

- ``Book.author_id``: ``Mapped[int]``, a foreign key to ``authors.id`` (index it);
- ``Book.author``: ``Mapped[Author]``, the relationship back to the author;
- ``Author.books``: ``Mapped[list[Book]]``, the other side (``back_populates`` on both), with
  ``cascade="all, delete-orphan"`` so deleting an author deletes their books.

Part 2, the repository. ``LibraryRepository`` answers the application's questions with
queries on the Session it is given. It calls ``session.flush()`` when it needs generated ids,
and it NEVER commits: the caller owns the transaction, so a rollback undoes its work.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # 04.3: add `books` here (see the module docstring)


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    year: Mapped[int]
    # 04.3: add `author_id` and `author` here (see the module docstring)


class DuplicateAuthor(ValueError):
    """An author with this name already exists."""


class AuthorNotFound(LookupError):
    """No author has this id."""


class LibraryRepository:
    """Reads and writes authors and books through one Session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_author(self, name: str) -> Author:
        """Adds an author and flushes, so the returned Author has its id.

        Raises DuplicateAuthor when an author with this name already exists.
        """
        raise NotImplementedError("04.3: check the name, session.add, session.flush")

    def get_author(self, author_id: int) -> Author | None:
        """The author with this primary key, or None."""
        raise NotImplementedError("04.3: session.get")

    def find_author(self, name: str) -> Author | None:
        """The author with exactly this name, or None."""
        raise NotImplementedError("04.3: select(Author).where(...)")

    def add_book(self, author_id: int, title: str, year: int) -> Book:
        """Adds a book to an existing author and flushes; AuthorNotFound otherwise."""
        raise NotImplementedError("04.3: find the author, append a Book to author.books")

    def books_by(self, author_name: str) -> list[Book]:
        """The named author's books ordered by year, then title; [] for an unknown author."""
        raise NotImplementedError("04.3: select(Book).join(Book.author).where(...).order_by(...)")

    def authors_with_book_counts(self) -> list[tuple[str, int]]:
        """``(name, number of books)`` for every author, sorted by name.

        Authors without books are included with 0 (think: which kind of JOIN?).
        """
        raise NotImplementedError("04.3: an outer join, GROUP BY and count()")

    def authors_with_books(self) -> list[Author]:
        """Every author sorted by name, with ``.books`` already loaded.

        At most two SELECTs in total, however many authors there are: reading ``a.books`` in
        a loop must not send one more query per author (the N+1 problem).
        """
        raise NotImplementedError("04.3: eager-load the books with selectinload")

    def delete_author(self, author_id: int) -> bool:
        """Deletes the author and their books (flushes); False when there is no such author."""
        raise NotImplementedError("04.3: session.delete; the cascade removes the books")

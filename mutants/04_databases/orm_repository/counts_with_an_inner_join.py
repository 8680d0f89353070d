"""Counts books with an inner join: authors without books disappear instead of showing 0.

04.3 — SQLAlchemy 2 typed models with a relationship, and a repository over a Session.

The repository turns "what the application wants" (an author by name, the books of an
author) into queries. It never commits: whoever opened the session decides when the unit of
work is done, so several repository calls can share one transaction.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # delete-orphan: a book cannot exist without its author, so deleting one deletes its books
    books: Mapped[list[Book]] = relationship(
        back_populates="author",
        cascade="all, delete-orphan",
        order_by="(Book.year, Book.title)",
    )


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    year: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id", ondelete="CASCADE"), index=True)
    author: Mapped[Author] = relationship(back_populates="books")


class DuplicateAuthor(ValueError):
    """An author with this name already exists."""


class AuthorNotFound(LookupError):
    """No author has this id."""


class LibraryRepository:
    """Reads and writes authors and books through one Session; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_author(self, name: str) -> Author:
        """Adds an author and flushes so its id is set; DuplicateAuthor if the name is taken."""
        if self.find_author(name) is not None:
            raise DuplicateAuthor(f"an author named {name!r} already exists")
        author = Author(name=name)
        self.session.add(author)
        self.session.flush()  # sends the INSERT, so author.id is known; still uncommitted
        return author

    def get_author(self, author_id: int) -> Author | None:
        return self.session.get(Author, author_id)

    def find_author(self, name: str) -> Author | None:
        return self.session.scalars(select(Author).where(Author.name == name)).first()

    def add_book(self, author_id: int, title: str, year: int) -> Book:
        """Adds a book to an existing author; AuthorNotFound otherwise."""
        author = self.get_author(author_id)
        if author is None:
            raise AuthorNotFound(f"there is no author with id {author_id}")
        book = Book(title=title, year=year)
        author.books.append(book)  # the relationship fills in author_id for us
        self.session.flush()
        return book

    def books_by(self, author_name: str) -> list[Book]:
        """The author's books ordered by year, then title; [] for an unknown author."""
        query = (
            select(Book)
            .join(Book.author)
            .where(Author.name == author_name)
            .order_by(Book.year, Book.title)
        )
        return list(self.session.scalars(query))

    def authors_with_book_counts(self) -> list[tuple[str, int]]:
        """(name, number of books) for every author, including those with none, by name."""
        query = (
            select(Author.name, func.count(Book.id))
            .join(Author.books)
            .group_by(Author.id)
            .order_by(Author.name)
        )
        return [(name, count) for name, count in self.session.execute(query)]

    def authors_with_books(self) -> list[Author]:
        """Every author by name, with .books loaded up front: two queries, however many authors."""
        query = select(Author).options(selectinload(Author.books)).order_by(Author.name)
        return list(self.session.scalars(query))

    def delete_author(self, author_id: int) -> bool:
        """Deletes the author and their books; False when there was no such author."""
        author = self.get_author(author_id)
        if author is None:
            return False
        self.session.delete(author)
        self.session.flush()
        return True

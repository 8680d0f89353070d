"""04.3 — SQLAlchemy 2 models with a relationship, and a repository over a Session."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from journey.targets import load

orm = load(__file__, "orm_repository")


def make_schema(engine: Engine) -> None:
    orm.Base.metadata.create_all(engine)


def require_linked_models() -> None:
    """Part 1 of the exercise is declarative, not a function body: until its attributes
    exist, report it the way an unwritten function is reported."""
    wanted = [(orm.Author, "books"), (orm.Book, "author_id"), (orm.Book, "author")]
    missing = [f"{cls.__name__}.{name}" for cls, name in wanted if not hasattr(cls, name)]
    if missing:
        raise NotImplementedError(f"04.3: add {', '.join(missing)} (see the module docstring)")


def test_models_link_authors_and_books_both_ways(engine: Engine) -> None:
    require_linked_models()
    make_schema(engine)
    with Session(engine) as session:
        ada = orm.Author(name="Ada", books=[orm.Book(title="Notes", year=1843)])
        session.add(ada)
        session.commit()
        book = session.scalars(select(orm.Book)).one()
        assert book.author is ada, "Book.author leads back to its Author (back_populates)"
        assert book.author_id == ada.id, "books.author_id is a foreign key to authors.id"


def test_repository_adds_and_finds_without_committing(engine: Engine) -> None:
    make_schema(engine)
    with Session(engine) as session:
        repo = orm.LibraryRepository(session)
        ada = repo.add_author("Ada")
        assert isinstance(ada.id, int), "add_author flushes, so the new author has an id"
        assert repo.get_author(ada.id) is ada, "get_author finds by primary key"
        assert repo.find_author("Ada") is ada, "find_author finds by name"
        assert repo.find_author("Nobody") is None
        assert repo.find_author("ada") is None, "find_author matches the exact name, case too"
        assert repo.get_author(ada.id + 1000) is None
        book = repo.add_book(ada.id, "Notes", 1843)
        assert isinstance(book.id, int), "add_book flushes, so the new book has an id"
        session.rollback()
    with Session(engine) as session:
        assert session.scalars(select(orm.Author)).all() == [], (
            "the repository must not commit: the caller owns the transaction, "
            "so rolling back the session undoes its work"
        )
        assert session.scalars(select(orm.Book)).all() == [], (
            "add_book must not commit either: rolling back the session undoes the new book"
        )


def test_duplicate_author_is_refused(engine: Engine) -> None:
    make_schema(engine)
    with Session(engine) as session:
        repo = orm.LibraryRepository(session)
        repo.add_author("Ada")
        with pytest.raises(orm.DuplicateAuthor):
            repo.add_author("Ada")


def test_books_by_orders_by_year_then_title(engine: Engine) -> None:
    make_schema(engine)
    with Session(engine) as session:
        repo = orm.LibraryRepository(session)
        le_guin = repo.add_author("Ursula K. Le Guin")
        other = repo.add_author("Someone Else")
        repo.add_book(le_guin.id, "The Dispossessed", 1974)
        repo.add_book(le_guin.id, "A Wizard of Earthsea", 1968)
        repo.add_book(le_guin.id, "The Left Hand of Darkness", 1969)
        repo.add_book(le_guin.id, "The Tombs of Atuan", 1969)
        repo.add_book(other.id, "Unrelated", 1900)
        session.commit()
    with Session(engine) as session:
        repo = orm.LibraryRepository(session)
        titles = [(b.year, b.title) for b in repo.books_by("Ursula K. Le Guin")]
        assert titles == [
            (1968, "A Wizard of Earthsea"),
            (1969, "The Left Hand of Darkness"),
            (1969, "The Tombs of Atuan"),
            (1974, "The Dispossessed"),
        ], "books_by returns only that author's books, by year then title"
        assert repo.books_by("Nobody") == []


def test_add_book_to_a_missing_author_raises(engine: Engine) -> None:
    make_schema(engine)
    with Session(engine) as session:
        repo = orm.LibraryRepository(session)
        with pytest.raises(orm.AuthorNotFound):
            repo.add_book(424242, "Orphan", 2000)


def test_counts_include_authors_without_books(engine: Engine) -> None:
    make_schema(engine)
    with Session(engine) as session:
        repo = orm.LibraryRepository(session)
        bo = repo.add_author("Bo")
        repo.add_author("Al")
        repo.add_book(bo.id, "One", 2001)
        repo.add_book(bo.id, "Two", 2002)
        assert repo.authors_with_book_counts() == [("Al", 0), ("Bo", 2)], (
            "an author with no books still appears, with 0 (an OUTER join), sorted by name"
        )


def test_authors_with_books_avoids_n_plus_one(engine: Engine) -> None:
    make_schema(engine)
    with Session(engine) as session:
        repo = orm.LibraryRepository(session)
        for n in range(6):
            author = repo.add_author(f"Author {n}")
            for year in (2000, 2001):
                repo.add_book(author.id, f"Book {n}-{year}", year)
        session.commit()

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session:
            authors = orm.LibraryRepository(session).authors_with_books()
            seen = {a.name: [b.title for b in a.books] for a in authors}
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [a.name for a in authors] == [f"Author {n}" for n in range(6)], "sorted by name"
    assert seen["Author 3"] == ["Book 3-2000", "Book 3-2001"]
    assert len(statements) <= 2, (
        f"loading 6 authors with their books took {len(statements)} SELECTs: eager-load the "
        "books (selectinload) instead of one query per author (the N+1 problem)"
    )


def test_deleting_an_author_deletes_their_books(engine: Engine) -> None:
    make_schema(engine)
    with Session(engine) as session:
        repo = orm.LibraryRepository(session)
        ada = repo.add_author("Ada")
        repo.add_book(ada.id, "Notes", 1843)
        keep = repo.add_author("Keep")
        repo.add_book(keep.id, "Kept", 1900)
        session.commit()
        assert repo.delete_author(ada.id) is True
        session.rollback()
        assert repo.find_author("Ada") is not None, (
            "delete_author must not commit: rolling back the session brings the author back"
        )
        assert repo.delete_author(ada.id) is True
        assert repo.delete_author(ada.id) is False, "deleting a missing author returns False"
        session.commit()
    with Session(engine) as session:
        titles = session.scalars(select(orm.Book.title)).all()
        assert titles == ["Kept"], "deleting an author deletes their books, and only theirs"

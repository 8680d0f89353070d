"""GraphQL with Strawberry: the N+1 problem, counted, and the DataLoader that removes it.

    uv run python lessons/06_services/examples/05_graphql_n_plus_one.py

A library in SQLite (standard library, in memory): 30 books by 10 authors. The query
``{ books { title author { name } } }`` asks for every book and its author. The same schema is
run twice, with two resolvers for ``Book.author``:

- naive: one ``SELECT ... WHERE id = ?`` per book - 1 query for the books + 30 for the authors;
- with a DataLoader: every ``load(author_id)`` made while resolving the list is collected, and
  the batch function runs ONE ``SELECT ... WHERE id IN (...)`` for all of them.

``set_trace_callback`` shows every statement SQLite runs, so the queries are counted, not guessed.
"""

from __future__ import annotations

import asyncio
import sqlite3

import strawberry
from strawberry.dataloader import DataLoader


@strawberry.type
class Author:
    id: int
    name: str


@strawberry.type
class Book:
    title: str
    author_id: strawberry.Private[int]  # for the resolver; not a field clients see

    @strawberry.field
    async def author(self, info: strawberry.Info) -> Author:
        if info.context["use_loader"]:
            return await info.context["authors"].load(self.author_id)
        row = info.context["db"].execute(
            "SELECT id, name FROM authors WHERE id = ?", (self.author_id,)
        )
        author_id, name = row.fetchone()
        return Author(id=author_id, name=name)


@strawberry.type
class Query:
    @strawberry.field
    def books(self, info: strawberry.Info) -> list[Book]:
        rows = info.context["db"].execute("SELECT title, author_id FROM books ORDER BY id")
        return [Book(title=title, author_id=author_id) for title, author_id in rows]


schema = strawberry.Schema(query=Query)


def authors_loader(db: sqlite3.Connection) -> DataLoader[int, Author]:
    async def load_authors(ids: list[int]) -> list[Author]:
        marks = ", ".join("?" * len(ids))
        rows = db.execute(f"SELECT id, name FROM authors WHERE id IN ({marks})", ids)
        found = {author_id: Author(id=author_id, name=name) for author_id, name in rows}
        return [found[author_id] for author_id in ids]  # one answer per key, in key order

    return DataLoader(load_fn=load_authors)


def library() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
        "CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL,"
        " author_id INTEGER NOT NULL REFERENCES authors (id));"
    )
    db.executemany("INSERT INTO authors VALUES (?, ?)", [(a, f"Author {a}") for a in range(1, 11)])
    db.executemany(
        "INSERT INTO books (title, author_id) VALUES (?, ?)",
        [(f"Book {b}", b % 10 + 1) for b in range(30)],
    )
    return db


async def main() -> None:
    db = library()
    query = "{ books { title author { name } } }"
    for use_loader in (False, True):
        statements: list[str] = []
        db.set_trace_callback(statements.append)
        # A fresh context (and so a fresh loader) per request: its cache must not outlive it.
        context = {"db": db, "authors": authors_loader(db), "use_loader": use_loader}
        result = await schema.execute(query, context_value=context)
        db.set_trace_callback(None)
        if result.errors or result.data is None:
            raise SystemExit(f"the query failed: {result.errors}")
        books = result.data["books"]
        print(f"{'with a DataLoader' if use_loader else 'naive resolver'}:")
        print(f"  {len(books)} books, first: {books[0]}")
        print(f"  {len(statements)} queries, e.g.:")
        for statement in statements[:3]:
            print(f"    {statement}")
    db.close()


if __name__ == "__main__":
    asyncio.run(main())

"""Keeps one set of DataLoaders for every request: later requests get what earlier ones cached.

GraphQL lets the client choose the shape of the answer: ``{ products { name category { name }
} }`` asks for products *and* each product's category, in one request. Each field is computed
by a resolver. Written naively, the ``category`` resolver runs one query per product: 1 query
for the list plus N for the categories - the **N+1 problem**, which turns one request into a
hundred database round trips.

A **DataLoader** fixes it: resolvers ask it for one key each (``await loader.load(7)``); it
collects every key asked for during the same turn of the event loop and calls its batch
function once with all of them - one ``WHERE id IN (...)`` query. It also caches per key, so
it must live for ONE request (in the request's context): shared between requests, it would
serve stale rows and let one user's request see what another's loaded.

The data is in SQLite (``sqlite3``, standard library), in the tables of ``SCHEMA_SQL``.
Strawberry names fields in camelCase for clients: ``price_cents`` is ``priceCents`` and
``add_product(category_id=...)`` is ``addProduct(categoryId: ...)``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import strawberry
from fastapi import FastAPI
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.types import ExecutionResult

SCHEMA_SQL = """
CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    category_id INTEGER NOT NULL REFERENCES categories (id)
);
"""
MAX_LIMIT = 100
PRODUCT_COLUMNS = "id, name, price_cents, category_id"


@strawberry.type
class Category:
    id: int
    name: str

    @strawberry.field
    async def products(self, info: strawberry.Info[Context, None]) -> list[Product]:
        """This category's products, in id order, through ``products_by_category``."""
        return await info.context.products_by_category.load(self.id)


@strawberry.type
class Product:
    id: int
    name: str
    price_cents: int
    category_id: strawberry.Private[int]  # kept for the resolver, not shown to clients

    @strawberry.field
    async def category(self, info: strawberry.Info[Context, None]) -> Category:
        """This product's category, through ``category_by_id``."""
        category = await info.context.category_by_id.load(self.category_id)
        if category is None:
            raise ValueError(f"product {self.id} has no category {self.category_id}")
        return category


def _product(row: tuple[Any, ...]) -> Product:
    return Product(id=row[0], name=row[1], price_cents=row[2], category_id=row[3])


async def load_categories(db: sqlite3.Connection, ids: list[int]) -> list[Category | None]:
    """Batch function: the categories with these ids, in ONE query.

    Returns one entry per id, in the order of ``ids`` (a DataLoader requires it), None for an
    id that no category has.
    """
    marks = ", ".join("?" * len(ids))
    rows = db.execute(f"SELECT id, name FROM categories WHERE id IN ({marks})", ids).fetchall()
    found = {row[0]: Category(id=row[0], name=row[1]) for row in rows}
    return [found.get(category_id) for category_id in ids]


async def load_products_by_category(
    db: sqlite3.Connection, category_ids: list[int]
) -> list[list[Product]]:
    """Batch function: the products of each of these categories, in ONE query.

    Returns one list per category id, in the order of ``category_ids``; each list in product id
    order; an empty list for a category without products.
    """
    marks = ", ".join("?" * len(category_ids))
    rows = db.execute(
        f"SELECT {PRODUCT_COLUMNS} FROM products WHERE category_id IN ({marks}) ORDER BY id",
        category_ids,
    ).fetchall()
    grouped: dict[int, list[Product]] = {category_id: [] for category_id in category_ids}
    for row in rows:
        grouped[row[3]].append(_product(row))
    return [grouped[category_id] for category_id in category_ids]


class Context(BaseContext):
    """What every resolver of one request shares: the database and that request's loaders.

    - ``db``: the sqlite3 connection;
    - ``category_by_id``: a ``DataLoader[int, Category | None]`` over ``load_categories``;
    - ``products_by_category``: a ``DataLoader[int, list[Product]]`` over
      ``load_products_by_category``.

    (``BaseContext`` lets Strawberry's FastAPI router add the request and response to it: call
    ``super().__init__()`` first.)
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        super().__init__()
        self.db = db

        async def categories(ids: list[int]) -> list[Category | None]:
            return await load_categories(db, ids)

        async def products(category_ids: list[int]) -> list[list[Product]]:
            return await load_products_by_category(db, category_ids)

        self.category_by_id: DataLoader[int, Category | None] = DataLoader(load_fn=categories)
        self.products_by_category: DataLoader[int, list[Product]] = DataLoader(load_fn=products)


_contexts: dict[int, Context] = {}


def make_context(db: sqlite3.Connection) -> Context:
    """A fresh Context - with fresh, empty loaders - for one request."""
    return _contexts.setdefault(id(db), Context(db))


@strawberry.type
class Query:
    @strawberry.field
    def products(self, info: strawberry.Info[Context, None], limit: int = 20) -> list[Product]:
        """The first ``limit`` products in id order, in ONE query. ``limit`` outside 1..100
        (MAX_LIMIT) is an error whose message contains "limit must be between 1 and 100"."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        rows = info.context.db.execute(
            f"SELECT {PRODUCT_COLUMNS} FROM products ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        return [_product(row) for row in rows]

    @strawberry.field
    def product(self, info: strawberry.Info[Context, None], id: int) -> Product | None:
        """The product with this id, or null."""
        row = info.context.db.execute(
            f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?", (id,)
        ).fetchone()
        return None if row is None else _product(row)

    @strawberry.field
    def categories(self, info: strawberry.Info[Context, None]) -> list[Category]:
        """Every category, in id order, in ONE query."""
        rows = info.context.db.execute("SELECT id, name FROM categories ORDER BY id").fetchall()
        return [Category(id=row[0], name=row[1]) for row in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def add_product(
        self, info: strawberry.Info[Context, None], name: str, price_cents: int, category_id: int
    ) -> Product:
        """Inserts a product, commits, and returns it.

        Errors (raise ValueError: Strawberry turns it into a GraphQL error with its message;
        nothing written): ``price_cents`` below 0 ("price_cents must be 0 or more"), an empty
        or blank ``name`` ("name must not be empty"), a category id that does not exist
        ("no category has id 42").
        """
        if price_cents < 0:
            raise ValueError(f"price_cents must be 0 or more, got {price_cents}")
        if not name.strip():
            raise ValueError("name must not be empty")
        if await info.context.category_by_id.load(category_id) is None:
            raise ValueError(f"no category has id {category_id}")
        db = info.context.db
        with db:  # a transaction: commit on success, roll back on error
            cursor = db.execute(
                "INSERT INTO products (name, price_cents, category_id) VALUES (?, ?, ?)",
                (name, price_cents, category_id),
            )
        assert cursor.lastrowid is not None
        return Product(
            id=cursor.lastrowid, name=name, price_cents=price_cents, category_id=category_id
        )


schema = strawberry.Schema(query=Query, mutation=Mutation)


async def execute(
    db: sqlite3.Connection, query: str, variables: dict[str, Any] | None = None
) -> ExecutionResult:
    """Runs one GraphQL request against ``db`` with a fresh context
    (``schema.execute(..., variable_values=..., context_value=...)``)."""
    return await schema.execute(query, variable_values=variables, context_value=make_context(db))


def create_app(db: sqlite3.Connection) -> FastAPI:
    """A FastAPI app serving the schema at ``POST /graphql`` (GraphiQL on GET), with a fresh
    context per request (``GraphQLRouter``'s ``context_getter``)."""
    app = FastAPI(title="catalog graphql")
    router: GraphQLRouter[Context, None] = GraphQLRouter(
        schema, context_getter=lambda: make_context(db)
    )
    app.include_router(router, prefix="/graphql")
    return app

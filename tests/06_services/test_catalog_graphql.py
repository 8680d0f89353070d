"""06.5 A GraphQL catalog with Strawberry; data loaders keep the query count flat (no N+1).

The database is a real SQLite database (standard library ``sqlite3``, in memory); its
``set_trace_callback`` hands every SQL statement it runs to the test, which counts them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from journey.targets import load

graphql = load(__file__, "catalog_graphql")

CATEGORIES = 10
PRODUCTS_PER_CATEGORY = 4


class Statements(list[str]):
    """Every SQL statement the connection ran, in order."""

    def selects(self) -> list[str]:
        return [s for s in self if s.lstrip().upper().startswith("SELECT")]


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    """An in-memory catalog: 10 categories of 4 products each (ids in insertion order)."""
    conn = sqlite3.connect(":memory:")
    conn.executescript(graphql.SCHEMA_SQL)
    for c in range(1, CATEGORIES + 1):
        conn.execute("INSERT INTO categories (id, name) VALUES (?, ?)", (c, f"Category {c}"))
        for p in range(PRODUCTS_PER_CATEGORY):
            conn.execute(
                "INSERT INTO products (name, price_cents, category_id) VALUES (?, ?, ?)",
                (f"Product {c}.{p}", 100 * c + p, c),
            )
    conn.commit()
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def statements(db: sqlite3.Connection) -> Statements:
    seen = Statements()
    db.set_trace_callback(seen.append)
    return seen


def query(run, db, text: str, variables=None) -> dict:
    result = run(graphql.execute(db, text, variables))
    assert not result.errors, f"the query failed: {result.errors}"
    return result.data


def errors_of(run, db, text: str, variables=None) -> list[str]:
    result = run(graphql.execute(db, text, variables))
    assert result.errors, "this request should fail with a GraphQL error"
    return [error.message for error in result.errors]


# -- the schema and resolvers ------------------------------------------------------------


def test_products_with_their_fields(run, db) -> None:
    data = query(run, db, "{ products(limit: 3) { id name priceCents } }")
    assert data == {
        "products": [
            {"id": 1, "name": "Product 1.0", "priceCents": 100},
            {"id": 2, "name": "Product 1.1", "priceCents": 101},
            {"id": 3, "name": "Product 1.2", "priceCents": 102},
        ]
    }, "the first `limit` products in id order (field names in camelCase)"


def test_limit_defaults_to_20_and_is_bounded(run, db) -> None:
    data = query(run, db, "{ products { id } }")
    assert len(data["products"]) == 20, "without a limit: the first 20"
    for bad in (0, 101, -5):
        messages = errors_of(run, db, f"{{ products(limit: {bad}) {{ id }} }}")
        assert any("limit must be between 1 and 100" in m for m in messages), messages
    assert len(query(run, db, "{ products(limit: 100) { id } }")["products"]) == 40
    assert len(query(run, db, "{ products(limit: 1) { id } }")["products"]) == 1


def test_one_product_or_null(run, db) -> None:
    data = query(
        run,
        db,
        "{ product(id: 6) { name category { id name } } missing: product(id: 999) { name } }",
    )
    assert data == {
        "product": {"name": "Product 2.1", "category": {"id": 2, "name": "Category 2"}},
        "missing": None,
    }, "an unknown id is null, not an error"


def test_each_product_gets_its_own_category_whatever_the_order(run, db) -> None:
    text = """{
      last: product(id: 40) { category { id } }
      first: product(id: 1) { category { id } }
      middle: product(id: 22) { category { id } }
    }"""
    data = query(run, db, text)
    ids = [data[name]["category"]["id"] for name in ("last", "first", "middle")]
    assert ids == [10, 1, 6], (
        "the loader asked for categories [10, 1, 6]; the database returns rows in its own "
        "order: the batch function must answer in the order of the keys it was given"
    )


def test_categories_with_their_products(run, db) -> None:
    data = query(run, db, "{ categories { id name products { name } } }")
    categories = data["categories"]
    assert [c["id"] for c in categories] == list(range(1, CATEGORIES + 1)), "in id order"
    assert categories[2]["products"] == [{"name": f"Product 3.{p}"} for p in range(4)], (
        "each category lists its own products, in id order"
    )


def test_a_category_without_products_has_an_empty_list(run, db) -> None:
    db.execute("INSERT INTO categories (id, name) VALUES (99, 'Empty')")
    data = query(run, db, "{ categories { id products { id } } }")
    assert data["categories"][-1] == {"id": 99, "products": []}


# -- N+1 ----------------------------------------------------------------------------------


def test_products_with_categories_cost_two_queries_not_n_plus_one(run, db, statements) -> None:
    data = query(run, db, "{ products(limit: 40) { name category { name } } }")
    assert len(data["products"]) == 40
    assert data["products"][5]["category"] == {"name": "Category 2"}
    selects = statements.selects()
    assert len(selects) == 2, (
        f"40 products and their categories took {len(selects)} queries: one for the products "
        "and ONE for all their categories (a DataLoader batches the category ids into "
        "`WHERE id IN (...)`). One query per product is the N+1 problem. Queries:\n"
        + "\n".join(selects[:6])
    )


def test_categories_with_products_cost_two_queries(run, db, statements) -> None:
    query(run, db, "{ categories { name products { name priceCents } } }")
    selects = statements.selects()
    assert len(selects) == 2, (
        f"10 categories and their products took {len(selects)} queries: the products of every "
        "category come from ONE batched query (`WHERE category_id IN (...)`). Queries:\n"
        + "\n".join(selects[:6])
    )


def test_nested_both_ways_costs_three_queries(run, db, statements) -> None:
    data = query(run, db, "{ categories { products { category { name } } } }")
    assert data["categories"][9]["products"][0]["category"] == {"name": "Category 10"}
    assert len(statements.selects()) == 3, (
        "categories -> products -> category: one query per level, whatever the number of rows"
    )


def test_the_query_count_does_not_grow_with_the_data(run, db, statements) -> None:
    query(run, db, "{ products(limit: 8) { category { name } } }")
    few = len(statements.selects())
    statements.clear()
    query(run, db, "{ products(limit: 40) { category { name } } }")
    many = len(statements.selects())
    assert few == many == 2, f"8 products took {few} queries, 40 took {many}: it must stay 2"


def test_loaders_live_for_one_request(run, db) -> None:
    text = "{ product(id: 1) { category { name } } }"
    assert query(run, db, text)["product"]["category"]["name"] == "Category 1"
    db.execute("UPDATE categories SET name = 'Renamed' WHERE id = 1")
    assert query(run, db, text)["product"]["category"]["name"] == "Renamed", (
        "a new request sees the change: make fresh DataLoaders for each request (in the "
        "context); a loader shared between requests keeps serving what it cached"
    )


# -- the mutation -------------------------------------------------------------------------

ADD = """
mutation Add($name: String!, $price: Int!, $category: Int!) {
  addProduct(name: $name, priceCents: $price, categoryId: $category) {
    id name priceCents category { name }
  }
}
"""


def test_add_product_inserts_and_commits(run, db) -> None:
    data = query(run, db, ADD, {"name": "Teapot", "price": 2500, "category": 3})
    added = data["addProduct"]
    assert (added["name"], added["priceCents"]) == ("Teapot", 2500)
    assert added["category"] == {"name": "Category 3"}
    assert added["id"] == CATEGORIES * PRODUCTS_PER_CATEGORY + 1
    assert not db.in_transaction, "the insert is committed"
    found = query(run, db, f"{{ product(id: {added['id']}) {{ name }} }}")
    assert found == {"product": {"name": "Teapot"}}


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"name": "Teapot", "price": -1, "category": 3}, "price_cents must be 0 or more"),
        ({"name": "  ", "price": 100, "category": 3}, "name must not be empty"),
        ({"name": "Teapot", "price": 100, "category": 42}, "no category has id 42"),
    ],
)
def test_add_product_refuses_bad_input(run, db, variables, message) -> None:
    messages = errors_of(run, db, ADD, variables)
    assert any(message in m for m in messages), f"expected {message!r}, got {messages}"
    count = db.execute("SELECT count(*) FROM products").fetchone()[0]
    assert count == CATEGORIES * PRODUCTS_PER_CATEGORY, "nothing is written"


def test_a_free_product_is_allowed(run, db) -> None:
    data = query(run, db, ADD, {"name": "Sticker", "price": 0, "category": 1})
    assert data["addProduct"]["priceCents"] == 0, "price 0 is the smallest valid price"


# -- over HTTP --------------------------------------------------------------------------


def test_the_schema_is_served_over_http(run, db, statements) -> None:
    import httpx

    async def main():
        transport = httpx.ASGITransport(app=graphql.create_app(db))
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as client:
            first = await client.post(
                "/graphql", json={"query": "{ products(limit: 40) { category { name } } }"}
            )
            db.execute("UPDATE categories SET name = 'Renamed' WHERE id = 1")
            second = await client.post(
                "/graphql", json={"query": "{ product(id: 1) { category { name } } }"}
            )
            return first, second

    first, second = run(main())
    assert first.status_code == 200, first.text
    assert len(first.json()["data"]["products"]) == 40
    assert second.json() == {"data": {"product": {"category": {"name": "Renamed"}}}}, (
        "each HTTP request gets a fresh context (context_getter), so fresh loaders"
    )
    assert len(statements.selects()) == 2 + 2, "two queries per request over HTTP too"

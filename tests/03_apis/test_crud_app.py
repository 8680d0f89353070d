"""03.3 — A FastAPI CRUD app factory over an in-memory repository."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from journey.targets import load

crud = load(__file__, "crud_app")

DUNE = {"title": "Dune", "author": "Frank Herbert", "year": 1965}
EMMA = {"title": "Emma", "author": "Jane Austen", "year": 1815}


def client(repository: Any = None) -> TestClient:
    return TestClient(crud.create_app(repository))


def test_create_answers_201_with_location_and_the_stored_book() -> None:
    api = client()
    response = api.post("/books", json=DUNE)
    assert response.status_code == 201, "creating a resource answers 201 Created, not 200"
    assert response.json() == {"id": 1, **DUNE}, "the body is the stored book with its new id"
    assert response.headers.get("location") == "/books/1", (
        "201 Created carries a Location header that points at the new resource"
    )
    follow = api.get(response.headers["location"])
    assert follow.status_code == 200
    assert follow.json() == {"id": 1, **DUNE}, "GET on the Location returns the same book"


def test_list_returns_every_book_in_id_order() -> None:
    api = client()
    assert api.get("/books").json() == [], "a new app starts with an empty collection"
    api.post("/books", json=DUNE)
    api.post("/books", json=EMMA)
    response = api.get("/books")
    assert response.status_code == 200
    assert [b["title"] for b in response.json()] == ["Dune", "Emma"]


def test_each_app_has_its_own_repository_unless_one_is_given() -> None:
    first, second = client(), client()
    first.post("/books", json=DUNE)
    assert second.get("/books").json() == [], "create_app() builds a fresh repository each time"

    shared = crud.BookRepository()
    shared.add(crud.BookIn(**EMMA))
    assert client(shared).get("/books/1").json() == {"id": 1, **EMMA}, (
        "create_app(repository) serves the repository it was given"
    )


def test_replace_with_put() -> None:
    api = client()
    api.post("/books", json=DUNE)
    response = api.put("/books/1", json=EMMA)
    assert response.status_code == 200, "PUT on an existing book answers 200"
    assert response.json() == {"id": 1, **EMMA}, "PUT replaces the whole book, keeping its id"
    assert api.get("/books/1").json()["title"] == "Emma", "the replacement is stored"


def test_delete_answers_204_with_no_body_then_404() -> None:
    api = client()
    api.post("/books", json=DUNE)
    response = api.delete("/books/1")
    assert response.status_code == 204, "a successful DELETE answers 204 No Content"
    assert response.content == b"", "204 means no body at all (not even 'null')"
    assert api.get("/books/1").status_code == 404, "a deleted book is gone"
    assert api.delete("/books/1").status_code == 404, "deleting twice: the second is a 404"


@pytest.mark.parametrize(("method", "body"), [("get", None), ("put", EMMA), ("delete", None)])
def test_unknown_id_is_404_with_a_detail(method: str, body: dict[str, Any] | None) -> None:
    api = client()
    api.post("/books", json=DUNE)
    kwargs = {"json": body} if body is not None else {}
    response = api.request(method.upper(), "/books/42", **kwargs)
    assert response.status_code == 404, f"{method.upper()} /books/42 of a missing book is 404"
    assert "42" in response.json().get("detail", ""), "the 404 detail names the missing id"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"title": "Dune", "author": "Frank Herbert"}, "year is required"),
        ({**DUNE, "year": "long ago"}, "year must be an integer"),
        ({**DUNE, "year": 1200}, "books before printing (1450) are refused"),
        ({**DUNE, "title": "  "}, "a blank title is refused"),
        ({**DUNE, "isbn": "123"}, "unknown fields are refused"),
    ],
)
def test_invalid_body_is_422_and_nothing_is_stored(body: dict[str, Any], why: str) -> None:
    api = client()
    response = api.post("/books", json=body)
    assert response.status_code == 422, f"{why}: FastAPI answers 422 for an invalid body"
    assert api.get("/books").json() == [], "a refused book is not stored"


def test_non_integer_id_is_422() -> None:
    api = client()
    api.post("/books", json=DUNE)
    response = api.get("/books/one")
    assert response.status_code == 422, "declare book_id: int, and /books/one is refused"


def test_openapi_documents_the_routes() -> None:
    schema = crud.create_app().openapi()
    paths = schema["paths"]
    assert set(paths.get("/books", {})) >= {"get", "post"}, "GET and POST /books are documented"
    item_paths = [path for path in paths if path.startswith("/books/{")]
    assert len(item_paths) == 1, f"one item path /books/{{...}} is documented, got {list(paths)}"
    assert set(paths[item_paths[0]]) >= {"get", "put", "delete"}, (
        "GET, PUT and DELETE /books/{id} are documented"
    )
    assert "201" in paths["/books"]["post"]["responses"], "POST documents its 201 status"

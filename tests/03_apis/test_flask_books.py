"""03.4 — The same /books resource as a Flask blueprint, tested with Flask's test client."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from journey.targets import load

fb = load(__file__, "flask_books")

DUNE = {"title": "Dune", "author": "Frank Herbert", "year": 1965}
EMMA = {"title": "Emma", "author": "Jane Austen", "year": 1815}


def client(repository: Any = None) -> FlaskClient:
    app = fb.create_app(repository)
    app.testing = True
    return app.test_client()


def test_the_blueprint_is_registered_under_its_name() -> None:
    app = fb.create_app()
    assert "books" in app.blueprints, "register a Blueprint named 'books' on the app"
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/books", "/books/<int:book_id>"} <= rules, (
        "the blueprint's routes live under url_prefix='/books', the id with an int converter"
    )


def test_create_answers_201_with_location() -> None:
    api = client()
    response = api.post("/books", json=DUNE)
    assert response.status_code == 201, "creating a resource answers 201 Created"
    assert response.get_json() == {"id": 1, **DUNE}
    location = response.headers.get("Location", "")
    assert location.endswith("/books/1"), "201 carries a Location header for the new book"
    assert api.get(location).get_json() == {"id": 1, **DUNE}, "the Location can be fetched"


def test_list_get_put_delete() -> None:
    api = client()
    api.post("/books", json=DUNE)
    api.post("/books", json=EMMA)
    assert [b["id"] for b in api.get("/books").get_json()] == [1, 2], "GET /books lists by id"
    replaced = api.put("/books/1", json=EMMA)
    assert replaced.status_code == 200
    assert replaced.get_json() == {"id": 1, **EMMA}, "PUT replaces the book, keeping its id"
    deleted = api.delete("/books/2")
    assert deleted.status_code == 204, "DELETE answers 204"
    assert deleted.data == b"", "a 204 has an empty body"
    assert [b["id"] for b in api.get("/books").get_json()] == [1]


def test_repository_is_shared_when_given() -> None:
    repository = fb.BookRepository()
    repository.add(fb.BookIn(**DUNE))
    assert client(repository).get("/books/1").get_json() == {"id": 1, **DUNE}, (
        "create_app(repository) serves that repository"
    )
    assert client().get("/books").get_json() == [], "create_app() starts from an empty one"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/books/7"), ("PUT", "/books/7"), ("DELETE", "/books/7"), ("GET", "/books/abc")],
)
def test_not_found_is_json(method: str, path: str) -> None:
    api = client()
    response = api.open(path, method=method, json=DUNE if method == "PUT" else None)
    assert response.status_code == 404, f"{method} {path} is a 404"
    assert response.is_json, "even a 404 answers JSON, never Flask's HTML error page"
    assert "detail" in response.get_json(), "error bodies look like {'detail': ...}"


def test_wrong_method_is_a_json_405() -> None:
    response = client().patch("/books")
    assert response.status_code == 405, "PATCH is not a route of /books: 405"
    assert response.is_json, "the 405 answers JSON too (an app-level error handler)"


def test_invalid_book_is_422_with_pydantic_errors() -> None:
    api = client()
    response = api.post("/books", json={"title": "", "author": "X", "year": 1200})
    assert response.status_code == 422, "a body BookIn refuses is a 422"
    errors = response.get_json()["detail"]
    fields = {tuple(e["loc"]) for e in errors}
    assert fields == {("title",), ("year",)}, "one error per invalid field, with its loc"
    assert all(e.get("msg") for e in errors), "each error says what is wrong in 'msg'"
    assert api.get("/books").get_json() == [], "nothing is stored"


def test_not_json_is_415_and_broken_json_is_400() -> None:
    api = client()
    as_form = api.post("/books", data={"title": "Dune"})
    assert as_form.status_code == 415, "a form post is not JSON: 415 Unsupported Media Type"
    assert as_form.is_json
    broken = api.post("/books", data="{not json", content_type="application/json")
    assert broken.status_code == 400, "a body that claims JSON but does not parse: 400"
    assert broken.is_json
    api.post("/books", json=DUNE)
    put_broken = api.put("/books/1", data="[", content_type="application/json")
    assert put_broken.status_code == 400, "PUT parses its body the same way"

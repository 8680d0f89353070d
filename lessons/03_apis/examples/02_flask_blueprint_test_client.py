"""The same /books resource in Flask: a blueprint, Pydantic for validation, the test client.

Run: uv run python lessons/03_apis/examples/02_flask_blueprint_test_client.py

Flask does not read type hints: the view parses JSON itself and asks the Pydantic model to
validate it. Flask's test client calls the app in-process, with no server and no socket.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request, url_for
from pydantic import BaseModel, Field, ValidationError


class BookIn(BaseModel):
    title: str = Field(min_length=1)
    year: int = Field(ge=1450, le=2100)


def books_blueprint() -> Blueprint:
    bp = Blueprint("books", __name__)
    books: dict[int, dict[str, Any]] = {}

    @bp.post("")
    def create_book() -> Any:
        try:
            book = BookIn.model_validate(request.get_json(silent=True))
        except ValidationError as error:
            errors = error.errors(include_url=False, include_context=False, include_input=False)
            return jsonify(detail=errors), 422
        book_id = len(books) + 1
        books[book_id] = {"id": book_id, **book.model_dump()}
        # url_for("<blueprint>.<view>") builds the URL from the route, prefix included
        location = url_for("books.get_book", book_id=book_id)
        return jsonify(books[book_id]), 201, {"Location": location}

    @bp.get("/<int:book_id>")
    def get_book(book_id: int) -> Any:
        if book_id not in books:
            return jsonify(detail=f"book {book_id} not found"), 404
        return jsonify(books[book_id])

    return bp


def create_app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(books_blueprint(), url_prefix="/books")
    return app


def main() -> None:
    app = create_app()
    print("routes:", sorted(r.rule for r in app.url_map.iter_rules() if r.endpoint != "static"))
    client = app.test_client()

    created = client.post("/books", json={"title": "Dune", "year": 1965})
    print("POST /books    ->", created.status_code, created.headers["Location"], created.get_json())
    fetched = client.get("/books/1")
    print("GET  /books/1  ->", fetched.status_code, fetched.get_json())
    print("GET  /books/2  ->", client.get("/books/2").status_code)
    print("GET  /books/x  ->", client.get("/books/x").status_code, "(the int converter refuses x)")
    invalid = client.post("/books", json={"title": "", "year": 1200})
    print(
        "POST invalid   ->", invalid.status_code, [e["loc"] for e in invalid.get_json()["detail"]]
    )


if __name__ == "__main__":
    main()

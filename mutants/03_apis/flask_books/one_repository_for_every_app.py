"""Uses a default argument BookRepository(), made once: every app shares it.

03.4 — The same /books resource as a Flask blueprint.

Flask does not validate bodies for you: the view reads JSON, hands it to the same Pydantic
model FastAPI would use, and turns a ``ValidationError`` into a 422 itself.
"""

from __future__ import annotations

from threading import Lock
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request, url_for
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.exceptions import HTTPException


class BookIn(BaseModel):
    """A book as a client sends it (POST and PUT)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    author: str = Field(min_length=1, max_length=100)
    year: int = Field(ge=1450, le=2100)


class BookOut(BookIn):
    """A stored book, as the API returns it."""

    id: int


class BookRepository:
    """An in-memory store of books. Ids start at 1 and are never reused."""

    def __init__(self) -> None:
        self._books: dict[int, BookIn] = {}
        self._next_id = 1
        self._lock = Lock()

    def add(self, book: BookIn) -> BookOut:
        with self._lock:
            book_id = self._next_id
            self._next_id += 1
            self._books[book_id] = book
        return BookOut(id=book_id, **book.model_dump())

    def get(self, book_id: int) -> BookOut | None:
        book = self._books.get(book_id)
        return None if book is None else BookOut(id=book_id, **book.model_dump())

    def all(self) -> list[BookOut]:
        return [BookOut(id=i, **b.model_dump()) for i, b in sorted(self._books.items())]

    def replace(self, book_id: int, book: BookIn) -> BookOut | None:
        with self._lock:
            if book_id not in self._books:
                return None
            self._books[book_id] = book
        return BookOut(id=book_id, **book.model_dump())

    def delete(self, book_id: int) -> bool:
        with self._lock:
            return self._books.pop(book_id, None) is not None


def _error(status: int, detail: Any) -> tuple[Response, int]:
    return jsonify(detail=detail), status


def _parse_book() -> BookIn | tuple[Response, int]:
    """The request's JSON body as a BookIn, or the error response to send instead."""
    # silent=True: a missing or malformed body is ours to report, as JSON
    if not request.is_json:
        return _error(415, "send the book as JSON (Content-Type: application/json)")
    data = request.get_json(silent=True)
    if data is None:
        return _error(400, "the body is not valid JSON")
    try:
        return BookIn.model_validate(data)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_context=False, include_input=False)
        return _error(422, errors)


def books_blueprint(repository: BookRepository) -> Blueprint:
    """A blueprint named "books" with the CRUD routes, closed over one repository."""
    bp = Blueprint("books", __name__)

    @bp.get("")
    def list_books() -> Response:
        return jsonify([b.model_dump() for b in repository.all()])

    @bp.post("")
    def create_book() -> Any:
        parsed = _parse_book()
        if not isinstance(parsed, BookIn):
            return parsed
        created = repository.add(parsed)
        location = url_for("books.get_book", book_id=created.id)
        return jsonify(created.model_dump()), 201, {"Location": location}

    # the int: converter makes /books/abc a 404 before the view ever runs
    @bp.get("/<int:book_id>")
    def get_book(book_id: int) -> Any:
        book = repository.get(book_id)
        if book is None:
            return _error(404, f"book {book_id} not found")
        return jsonify(book.model_dump())

    @bp.put("/<int:book_id>")
    def replace_book(book_id: int) -> Any:
        parsed = _parse_book()
        if not isinstance(parsed, BookIn):
            return parsed
        replaced = repository.replace(book_id, parsed)
        if replaced is None:
            return _error(404, f"book {book_id} not found")
        return jsonify(replaced.model_dump())

    @bp.delete("/<int:book_id>")
    def delete_book(book_id: int) -> Any:
        if not repository.delete(book_id):
            return _error(404, f"book {book_id} not found")
        return "", 204

    return bp


def create_app(repository: BookRepository = BookRepository()) -> Flask:  # noqa: B008
    """A new Flask app with the books blueprint mounted at /books."""
    app = Flask(__name__)
    app.register_blueprint(books_blueprint(repository), url_prefix="/books")

    @app.errorhandler(HTTPException)
    def http_error_as_json(error: HTTPException) -> Any:
        # routing errors (unknown URL, wrong method) answer in JSON too, like the views do
        return _error(error.code or 500, error.description)

    return app

"""03.4 — The same /books resource as a Flask blueprint.

Flask does not validate bodies for you: the view reads JSON, hands it to the same Pydantic
model FastAPI would use, and turns a ``ValidationError`` into a 422 itself. The models and the
repository are given; write ``books_blueprint`` and ``create_app``.

| method and path     | success                                       | errors                  |
|---------------------|-----------------------------------------------|-------------------------|
| GET    /books       | 200, a JSON list of books, by id              |                         |
| POST   /books       | 201, the book with its id, header Location /books/{id} | 415, 400, 422  |
| GET    /books/<id>  | 200, the book                                 | 404                     |
| PUT    /books/<id>  | 200, the replaced book                        | 404, 415, 400, 422      |
| DELETE /books/<id>  | 204 with an empty body                        | 404                     |

Every error body is JSON ``{"detail": ...}``:

- 415 when the request is not JSON (``request.is_json`` is false);
- 400 when it says JSON but does not parse (``request.get_json(silent=True)`` is None);
- 422 when ``BookIn`` refuses it: ``detail`` is the list of Pydantic errors, each with at least
  ``loc`` and ``msg`` (``error.errors(include_url=False, include_context=False,
  include_input=False)`` is JSON-safe);
- 404 for an unknown id, and also for a URL that matches no route (``/books/abc``: use the
  ``<int:book_id>`` converter), and 405 for a method the URL does not allow: register an
  error handler for werkzeug's ``HTTPException`` on the app so these answer JSON too.
"""

from __future__ import annotations

from threading import Lock

from flask import Blueprint, Flask
from pydantic import BaseModel, ConfigDict, Field


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
    """An in-memory store of books. Ids start at 1 and are never reused. (Given.)"""

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


def books_blueprint(repository: BookRepository) -> Blueprint:
    """A Blueprint named "books" with the five routes of the table (paths relative to its
    url_prefix: "" and "/<int:book_id>"), over ``repository``."""
    raise NotImplementedError("03.4: write the books blueprint")


def create_app(repository: BookRepository | None = None) -> Flask:
    """A new Flask app with books_blueprint(repository) registered at url_prefix "/books"
    (a fresh, empty repository when None) and JSON error bodies for routing errors."""
    raise NotImplementedError("03.4: build a Flask app and register the blueprint")

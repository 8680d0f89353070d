"""03.3 — A FastAPI CRUD app factory over an in-memory repository.

``create_app(repository=None)`` returns a NEW FastAPI app each call, serving the /books
resource over ``repository`` (a fresh ``BookRepository()`` when None). The models and the
repository are given; write the routes in ``books_router`` and mount it in ``create_app``.

| method and path     | success                                   | errors                     |
|---------------------|-------------------------------------------|----------------------------|
| GET    /books       | 200, a JSON list of BookOut, by id        |                            |
| POST   /books       | 201, the BookOut, header Location /books/{id} | 422 invalid body       |
| GET    /books/{id}  | 200, the BookOut                          | 404, 422 if id is not int  |
| PUT    /books/{id}  | 200, the replaced BookOut                 | 404, 422 invalid body      |
| DELETE /books/{id}  | 204 with an empty body                    | 404                        |

A 404 answers FastAPI's usual ``{"detail": "book 7 not found"}``; 422 is FastAPI's own
validation response (declare the body as ``BookIn`` and the path id as ``int``).
"""

from __future__ import annotations

from threading import Lock

from fastapi import APIRouter, FastAPI
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
        self._lock = Lock()  # uvicorn may serve sync endpoints from several threads

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


def books_router(repository: BookRepository) -> APIRouter:
    """An APIRouter with prefix "/books" and the five routes of the table, over ``repository``."""
    raise NotImplementedError("03.3: write the /books routes on an APIRouter")


def create_app(repository: BookRepository | None = None) -> FastAPI:
    """A new app serving /books over ``repository`` (a fresh, empty one when None)."""
    raise NotImplementedError("03.3: build a FastAPI app and include books_router")

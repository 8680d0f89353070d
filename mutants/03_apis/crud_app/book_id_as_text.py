"""Declares the path id as str, so /books/one is a 404 instead of a 422.

03.3 — A FastAPI CRUD app factory over an in-memory repository.

``create_app()`` builds a fresh application each time it is called: tests get an app of their
own, and a caller can pass the repository the app should use (a fake, a shared one, a real
database later on).
"""

from __future__ import annotations

from threading import Lock

from fastapi import APIRouter, FastAPI, HTTPException, Response, status
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
    """An in-memory store of books. Ids start at 1 and are never reused."""

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


def _not_found(book_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"book {book_id} not found")


def books_router(repository: BookRepository) -> APIRouter:
    """The /books routes, closed over one repository."""
    router = APIRouter(prefix="/books", tags=["books"])

    @router.get("", response_model=list[BookOut])
    def list_books() -> list[BookOut]:
        return repository.all()

    @router.post("", status_code=status.HTTP_201_CREATED, response_model=BookOut)
    def create_book(book: BookIn, response: Response) -> BookOut:
        created = repository.add(book)
        # 201 Created tells the client where the new resource lives
        response.headers["Location"] = f"/books/{created.id}"
        return created

    @router.get("/{book_id}", response_model=BookOut)
    def get_book(book_id: str) -> BookOut:
        book = repository.get(int(book_id)) if book_id.isdigit() else None
        if book is None:
            raise _not_found(book_id)
        return book

    @router.put("/{book_id}", response_model=BookOut)
    def replace_book(book_id: int, book: BookIn) -> BookOut:
        replaced = repository.replace(book_id, book)
        if replaced is None:
            raise _not_found(book_id)
        return replaced

    @router.delete("/{book_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete_book(book_id: int) -> Response:
        if not repository.delete(book_id):
            raise _not_found(book_id)
        # 204 has no body at all, not even "null"
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


def create_app(repository: BookRepository | None = None) -> FastAPI:
    """A new app serving /books over ``repository`` (a fresh, empty one when None)."""
    app = FastAPI(title="Books", version="1.0.0")
    if repository is None:
        repository = BookRepository()
    app.include_router(books_router(repository))
    return app

"""A minimal FastAPI app served for real by uvicorn, called over HTTP with httpx, then stopped.

Run: uv run python lessons/03_apis/examples/01_fastapi_uvicorn_httpx.py

The server runs in a background thread on 127.0.0.1 and a port the OS picks (port 0), so two
copies never collide. We wait for ``server.started`` with a deadline (no fixed sleep), and stop
it by setting ``should_exit``: uvicorn finishes in-flight requests, then returns.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException, Response, status
from pydantic import BaseModel, Field


class BookIn(BaseModel):
    title: str = Field(min_length=1)
    year: int = Field(ge=1450, le=2100)


class BookOut(BookIn):
    id: int


def create_app() -> FastAPI:
    app = FastAPI(title="Books")
    books: dict[int, BookOut] = {}

    @app.post("/books", status_code=status.HTTP_201_CREATED)
    def create_book(book: BookIn, response: Response) -> BookOut:
        stored = BookOut(id=len(books) + 1, **book.model_dump())
        books[stored.id] = stored
        response.headers["Location"] = f"/books/{stored.id}"
        return stored

    @app.get("/books/{book_id}")
    def get_book(book_id: int) -> BookOut:
        if book_id not in books:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"book {book_id} not found")
        return books[book_id]

    return app


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check()`` until it is true; fail loudly when the deadline passes."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(0.01)


def main() -> None:
    # bind the socket ourselves: port 0 asks the OS for a free port, and we know it before
    # the server starts
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()

    config = uvicorn.Config(create_app(), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10, what="server start-up")
    print(f"serving on http://{host}:{port}")

    try:
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=5) as client:
            created = client.post("/books", json={"title": "Dune", "year": 1965})
            print("POST /books      ->", created.status_code, created.headers["location"])
            print("                    ", created.json())
            fetched = client.get(created.headers["location"])
            print("GET  /books/1    ->", fetched.status_code, fetched.json())
            missing = client.get("/books/99")
            print("GET  /books/99   ->", missing.status_code, missing.json())
            invalid = client.post("/books", json={"title": "", "year": 1200})
            fields = [error["loc"][-1] for error in invalid.json()["detail"]]
            print("POST invalid     ->", invalid.status_code, "invalid fields:", fields)
    finally:
        server.should_exit = True  # graceful: finish in-flight requests, run shutdown, return
        thread.join(timeout=10)
        sock.close()
    print("server stopped:", not thread.is_alive())


if __name__ == "__main__":
    main()

"""Builds the next link from limit and cursor alone, dropping ?source=web and the like.

03.5 — Cursor pagination with Link headers.

``GET /events`` lists events newest first, one page at a time. Each page ends with an opaque
cursor that encodes *where the page stopped* (the id of its last event), not *how many items
came before it*: new events arriving between two requests then neither repeat an event on the
next page nor make one be skipped, which is what goes wrong with ``?offset=``.
"""

from __future__ import annotations

import base64
import binascii
import json
from threading import Lock
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

DEFAULT_LIMIT = 10
MAX_LIMIT = 50


class InvalidCursor(ValueError):
    """The cursor was not made by ``encode_cursor`` (or was tampered with)."""


class EventIn(BaseModel):
    message: str = Field(min_length=1, max_length=500)


class Event(BaseModel):
    id: int
    message: str


class Page(BaseModel):
    """One page of events, newest first; ``next_cursor`` is None on the last page."""

    items: list[Event]
    next_cursor: str | None


class EventStore:
    """An in-memory, append-only store. Ids increase: a newer event has a larger id."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._lock = Lock()

    def add(self, message: str) -> Event:
        with self._lock:
            event = Event(id=len(self._events) + 1, message=message)
            self._events.append(event)
        return event

    def newest_first(self) -> list[Event]:
        """Every event, newest first (a snapshot: later adds do not change the list)."""
        return self._events[::-1]


def encode_cursor(last_id: int) -> str:
    """An opaque, URL-safe cursor for "the page after the event with id ``last_id``"."""
    raw = json.dumps({"after": last_id}, separators=(",", ":")).encode()
    # urlsafe alphabet and no "=" padding: the cursor goes into a query string untouched
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The ``last_id`` inside a cursor; ``InvalidCursor`` for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        last_id = data["after"]
    except (ValueError, UnicodeError, binascii.Error, KeyError, TypeError) as error:
        raise InvalidCursor(f"invalid cursor {cursor!r}") from error
    # bool is an int too; a cursor only ever holds a positive event id
    if type(last_id) is not int or last_id < 1:
        raise InvalidCursor(f"invalid cursor {cursor!r}")
    return last_id


def page_after(events: list[Event], last_id: int | None, limit: int) -> tuple[list[Event], bool]:
    """The next ``limit`` events of a newest-first list after ``last_id``, and whether more follow.

    ``last_id`` None means the first page. Keyset, not offset: the page starts at the first
    event *older* than ``last_id``, wherever that event now sits in the list.
    """
    remaining = events if last_id is None else [e for e in events if e.id < last_id]
    # one extra item tells us whether a next page exists, without counting them all
    window = remaining[: limit + 1]
    return window[:limit], len(window) > limit


def create_app(store: EventStore | None = None) -> FastAPI:
    """An app with ``POST /events`` (201) and ``GET /events?limit=&cursor=`` (paginated)."""
    if store is None:
        store = EventStore()
    app = FastAPI(title="Events")

    @app.post("/events", status_code=status.HTTP_201_CREATED, response_model=Event)
    def add_event(body: EventIn) -> Event:
        return store.add(body.message)

    @app.get("/events", response_model=Page)
    def list_events(
        request: Request,
        response: Response,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> Page:
        try:
            last_id = None if cursor is None else decode_cursor(cursor)
        except InvalidCursor as error:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from error
        items, more = page_after(store.newest_first(), last_id, limit)
        next_cursor = encode_cursor(items[-1].id) if more else None
        if next_cursor is not None:
            # RFC 8288: the full URL of the next page, keeping the client's other parameters
            next_url = request.url.replace_query_params(limit=limit, cursor=next_cursor)
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return Page(items=items, next_cursor=next_cursor)

    return app

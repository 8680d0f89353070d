"""03.6 — Cursor pagination with signed cursors and Link headers.

``GET /events`` lists events newest first, one page at a time. Each page ends with an opaque
cursor that encodes *where the page stopped* (the id of its last event), not *how many items
came before it*: new events arriving between two requests then neither repeat an event on the
next page nor make one be skipped, which is what goes wrong with ``?offset=``.

The cursor is *signed*: ``<payload>.<signature>``, where the payload is URL-safe base64 (no "="
padding) of the JSON ``{"after": last_id}``, and the signature is URL-safe base64 (no padding)
of ``HMAC-SHA256(secret, payload)``. Base64 alone hides nothing: anyone can decode it, edit
the id and encode it again. The signature lets the server refuse every cursor it did not make
itself, so clients cannot build or edit cursors, and the server stays free to change what is
inside them.

Write:

- ``encode_cursor(last_id, secret)`` / ``decode_cursor(cursor, secret)``. ``decode_cursor``
  accepts only what ``encode_cursor`` made *with the same secret*, and raises
  ``InvalidCursor`` for anything else: not two parts, a signature that does not match the
  payload (compare with ``hmac.compare_digest``, in constant time), a payload that is not
  base64 of JSON, not an object with an integer "after" >= 1 (``true`` is not an integer
  here).
- ``page_after(events, last_id, limit)``: keyset pagination over a newest-first list.
- ``create_app(store=None, *, secret=None)``: ``POST /events`` (body EventIn, answers 201
  with the Event) and ``GET /events?limit=&cursor=`` answering a ``Page``. ``secret=None``
  means a fresh random one (``secrets.token_bytes(32)``) for this app, so its cursors are
  valid only in this app:
    * ``limit``: default DEFAULT_LIMIT, from 1 to MAX_LIMIT, else FastAPI's 422
      (``Annotated[int, Query(ge=..., le=...)]``);
    * a cursor that does not decode: 400 ``{"detail": "invalid cursor ..."}``;
    * when a next page exists: ``next_cursor`` is set and the response has an RFC 8288 header
      ``Link: <absolute URL of the next page>; rel="next"`` that keeps ``limit`` and any other
      query parameter (``request.url.include_query_params(...)``); on the last page
      ``next_cursor`` is None and there is no Link header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from threading import Lock
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

DEFAULT_LIMIT = 10
MAX_LIMIT = 50


class InvalidCursor(ValueError):
    """The cursor was not made by ``encode_cursor`` with this secret: forged, edited,
    truncated, or garbage."""


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


def _b64(raw: bytes) -> str:
    # urlsafe alphabet and no "=" padding: the cursor goes into a query string untouched
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))


def _signature(payload: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def encode_cursor(last_id: int, secret: bytes) -> str:
    """An opaque, signed, URL-safe cursor for "the page after the event with id ``last_id``"."""
    payload = _b64(json.dumps({"after": last_id}, separators=(",", ":")).encode())
    return f"{payload}.{_signature(payload, secret)}"


def decode_cursor(cursor: str, secret: bytes) -> int:
    """The ``last_id`` inside a cursor made with ``secret``; ``InvalidCursor`` for anything else."""
    payload, dot, signature = cursor.partition(".")
    try:
        expected = _signature(payload, secret)
    except UnicodeError:  # a payload that is not even ASCII cannot be one of ours
        raise InvalidCursor(f"invalid cursor {cursor!r}") from None
    # compare_digest takes as long for a near miss as for a wild guess: no timing hints
    if not dot or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise InvalidCursor(f"invalid cursor {cursor!r}: not signed by this server")
    try:
        data = json.loads(_unb64(payload))
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


def create_app(store: EventStore | None = None, *, secret: bytes | None = None) -> FastAPI:
    """An app with ``POST /events`` (201) and ``GET /events?limit=&cursor=`` (paginated);
    its cursors are signed with ``secret`` (a fresh random one when None)."""
    if store is None:
        store = EventStore()
    key = secrets.token_bytes(32) if secret is None else secret
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
            last_id = None if cursor is None else decode_cursor(cursor, key)
        except InvalidCursor as error:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from error
        items, more = page_after(store.newest_first(), last_id, limit)
        next_cursor = encode_cursor(items[-1].id, key) if more else None
        if next_cursor is not None:
            # RFC 8288: the full URL of the next page, keeping the client's other parameters
            next_url = request.url.include_query_params(limit=limit, cursor=next_cursor)
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return Page(items=items, next_cursor=next_cursor)

    return app

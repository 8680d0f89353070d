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

from threading import Lock

from fastapi import FastAPI
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
    """An in-memory, append-only store. Ids increase: a newer event has a larger id. (Given.)"""

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


def encode_cursor(last_id: int, secret: bytes) -> str:
    """An opaque, signed, URL-safe cursor for "the page after the event with id ``last_id``"."""
    raise NotImplementedError("03.6: base64url payload, a dot, base64url HMAC-SHA256 of it")


def decode_cursor(cursor: str, secret: bytes) -> int:
    """The ``last_id`` inside a cursor made with ``secret``; ``InvalidCursor`` for anything else."""
    raise NotImplementedError("03.6: check the signature, then decode; InvalidCursor otherwise")


def page_after(events: list[Event], last_id: int | None, limit: int) -> tuple[list[Event], bool]:
    """The next ``limit`` events of a newest-first list after ``last_id``, and whether more follow.

    ``last_id`` None means the first page. Keyset, not offset: the page starts at the first
    event *older* than ``last_id``, wherever that event now sits in the list.
    """
    raise NotImplementedError("03.6: take the next limit events older than last_id")


def create_app(store: EventStore | None = None, *, secret: bytes | None = None) -> FastAPI:
    """An app with ``POST /events`` (201) and ``GET /events?limit=&cursor=`` (paginated);
    its cursors are signed with ``secret`` (a fresh random one when None)."""
    raise NotImplementedError("03.6: serve POST /events and paginated GET /events")

"""09.2 Request-id middleware: read, check, set, echo and propagate ``X-Request-ID``.

One request id per request, seen by everything that serves it, lets a log search follow a
request through several services. The middleware:

- **reads** the incoming ``X-Request-ID`` (a proxy or the calling service may have set it);
- **checks** it: the header comes from outside, so an oversized value or one with control
  characters (a forged log line, terminal escape codes) is refused and replaced by a fresh id -
  and never written to a log as it came;
- **sets** it in a ContextVar for the time of the request, so any code can read it with
  `current_request_id()` and every log line can carry it;
- **echoes** it in the response, so a client can quote it in a bug report;
- and `outgoing_headers` **propagates** it to the next service.

It is a *pure ASGI* middleware (a class with ``async __call__(scope, receive, send)``): it adds
almost nothing per request, unlike Starlette's ``BaseHTTPMiddleware``.
"""

from __future__ import annotations

import logging
import uuid  # noqa: F401 - you will need it
from collections.abc import Mapping
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID_LENGTH = 128

# The id of the request being served (given). Each asyncio task sees its own value.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
log = logging.getLogger("lesson09.request_ids")


def new_request_id() -> str:
    """A fresh id: 32 lower-case hex characters (``uuid.uuid4().hex``)."""
    raise NotImplementedError("09.2: return a uuid4 in hex")


def is_valid_request_id(value: str) -> bool:
    """True for 1 to MAX_REQUEST_ID_LENGTH characters, each a visible ASCII character
    (from '!' to '~': no space, no control character, nothing outside ASCII)."""
    raise NotImplementedError("09.2: check the length and every character")


def current_request_id() -> str | None:
    """The id of the request being served in this context, or None outside a request."""
    raise NotImplementedError("09.2: read request_id_var")


def outgoing_headers(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers for a call to another service: a new dict with ``headers`` plus
    ``X-Request-ID: <current id>``.

    Outside a request (no current id) nothing is added. A caller's own X-Request-ID, in any
    case (``x-request-id``), is kept and not duplicated. The caller's mapping is not changed.
    """
    raise NotImplementedError("09.2: copy the headers and add the current id if none is there")


class RequestIdMiddleware:
    """``app = RequestIdMiddleware(app)``: every HTTP request gets a checked request id.

    For an ``http`` scope:

    - read ``x-request-id`` from ``scope["headers"]`` (a list of (name, value) bytes pairs;
      ASGI servers give header names in lower case);
    - keep it if `is_valid_request_id` accepts it (decoded as latin-1), else use
      `new_request_id()` - and if you log the refusal, never log the refused value itself
      (its length is fine);
    - set `request_id_var` while the app runs, and reset it afterwards with the token from
      ``set()``, also when the app raises (the exception goes on up);
    - add ``x-request-id: <id>`` to the headers of the ``http.response.start`` message, keeping
      the app's own headers - exactly one X-Request-ID in the response.

    Any other scope (``lifespan``, ``websocket``) goes to the app untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        raise NotImplementedError("09.2: keep the app")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError("09.2: read, check, set, echo, reset")

"""Echoes back whatever Origin the request sends.

Browsers, not servers, enforce CORS: a page from https://evil.example may *send* a request to
your API, but the browser only lets its script *read* the answer when the answer says
`Access-Control-Allow-Origin: <that page's origin>`. For requests that could change something
(PUT, DELETE, a JSON body, an Authorization header) the browser first asks with a preflight
`OPTIONS` request. So the API's job is to name the origins it trusts, exactly, and to say
nothing at all to any other origin. (CORS is not authentication: curl ignores it.)

Security headers tell the browser to be strict with your responses: do not guess content
types, do not show them in a frame, do not leak the URL in Referer, only use HTTPS.
"""

from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cache-Control": "no-store",
}
ALLOWED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]
PREFLIGHT_MAX_AGE = 600


def check_origin(origin: str) -> str:
    """`origin` if it is one exact web origin, "scheme://host[:port]", else ValueError.

    The scheme is http or https; there is no path (not even "/"), query, fragment, user or
    password; "*" and "null" are refused. The ValueError's message starts with "origin" and
    says what a good one looks like ("https://app.example.com").
    """
    parts = urlsplit(origin)
    exact = (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and not (parts.path or parts.query or parts.fragment)
        and origin == f"{parts.scheme}://{parts.netloc}"
    )
    if not exact:
        raise ValueError(
            f"origin {origin!r} is not one exact origin: write scheme://host[:port] with no "
            "path or trailing slash, e.g. https://app.example.com"
        )
    return origin


def secure(app: FastAPI, allowed_origins: Sequence[str]) -> FastAPI:
    """Adds CORS for exactly `allowed_origins` and SECURITY_HEADERS to `app`; returns `app`.

    CORS (Starlette's CORSMiddleware): each origin goes through check_origin first (a bad
    one is a ValueError before anything is added). A request from an allowed origin gets
    `Access-Control-Allow-Origin: <its origin>` (never "*") and `Vary: Origin`; a request from
    any other origin gets no Access-Control-Allow-Origin header at all. Preflights may use
    ALLOWED_METHODS and ALLOWED_HEADERS and are cached for PREFLIGHT_MAX_AGE seconds. No
    credentials (cookies): the API takes bearer tokens, so there is no
    `Access-Control-Allow-Credentials`.

    Headers: every response, including 404s for unknown paths, validation errors and CORS
    preflight answers, carries SECURITY_HEADERS; a header that a route set itself is kept.
    """
    [check_origin(origin) for origin in allowed_origins]

    async def add_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(
        CORSMiddleware,
        allow_origin_regex=".*",
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE,
    )
    # added last, so it is the outermost: it also sees the preflight answers CORS gives
    app.middleware("http")(add_headers)
    return app

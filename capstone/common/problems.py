"""Errors as RFC 9457 problem details, ``application/problem+json`` (lesson 03: APIs).

Raise :class:`Problem` anywhere in a handler; FastAPI's own errors (HTTPException, validation)
are turned into the same shape, so a client parses one kind of error everywhere. A dependency
that is down (Redis, PostgreSQL) is a 503 with a jittered ``Retry-After``, never a 500: clients
that all failed at once should not all come back in the same second.

The OpenAPI document says so too: :func:`error_responses` is the ``responses=`` of a route, every
error as ``application/problem+json`` with the :class:`ProblemDetails` schema.
"""

from __future__ import annotations

import random
from http import HTTPStatus
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from capstone.common.logging import get_logger

PROBLEM_JSON = "application/problem+json"
PROBLEM_SCHEMA = "ProblemDetails"
RETRY_AFTER_SECONDS = (1, 5)  # a dependency that is down: come back in 1 to 5 seconds
log = get_logger("capstone.problems")


class ProblemDetails(BaseModel):
    """The body of every error (RFC 9457); validation errors add ``errors``."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each of ``statuses`` documented as problem+json."""
    ref = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}
    return {
        status: {"description": _reason(status), "content": {PROBLEM_JSON: {"schema": ref}}}
        for status in statuses
    }


def document_problems(app: FastAPI) -> None:
    """Adds the :class:`ProblemDetails` schema to the app's OpenAPI components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components[PROBLEM_SCHEMA] = ProblemDetails.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def retry_after() -> str:
    """A jittered ``Retry-After`` value, in whole seconds."""
    return str(random.randint(*RETRY_AFTER_SECONDS))


def unavailable(what: str) -> Problem:
    return Problem(
        503,
        "Service Unavailable",
        f"{what} is unavailable; retry later",
        headers={"Retry-After": retry_after()},
    )


class Problem(Exception):
    """An error the client should see: HTTP status, a short title, a specific detail."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_body(status: int, title: str, detail: str = "", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, title, detail, **extra),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc.status, exc.title, exc.detail, exc.headers, **exc.extra)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = _reason(exc.status_code)
        detail = exc.detail if isinstance(exc.detail, str) else ""
        return problem_response(exc.status_code, title, detail, dict(exc.headers or {}))

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return problem_response(
            422, "Validation failed", "the request does not match the schema", errors=errors
        )

    async def on_redis_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("redis unavailable", error=repr(exc))
        return on_unavailable("redis")

    async def on_database_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable", error=repr(exc))
        return on_unavailable("the database")

    def on_unavailable(what: str) -> JSONResponse:
        problem = unavailable(what)
        return problem_response(problem.status, problem.title, problem.detail, problem.headers)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    # Redis refused, timed out or had no free connection in time
    app.add_exception_handler(redis.exceptions.ConnectionError, on_redis_down)
    app.add_exception_handler(redis.exceptions.TimeoutError, on_redis_down)
    # PostgreSQL unreachable, a statement over its timeout, or no pooled connection in time
    app.add_exception_handler(sqlalchemy.exc.OperationalError, on_database_down)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, on_database_down)
    # anything else is a 500, answered by RequestContextMiddleware (so it carries X-Request-ID)


def crash_response() -> JSONResponse:
    """The answer to an unhandled error: nothing about it reaches the client.

    ``Connection: close``: after an error nobody planned for, this connection is not worth
    keeping, and a keep-alive client (the gateway) must not send its next request down it."""
    return problem_response(
        500,
        "Internal Server Error",
        "an unexpected error occurred",
        headers={"Connection": "close"},
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"

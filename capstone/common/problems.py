"""Errors as RFC 9457 problem details, ``application/problem+json`` (lesson 03: APIs).

The format is lesson 03's capstone piece (exercise 03.8, ``gateway_contract``, through
capstone.pieces): its ``Problem`` document, its ``problem_response``, and its handlers, which
turn FastAPI's own errors (HTTPException, validation: 422 with ``errors``, or 400 for a body
that is not JSON) and every ``ProblemError`` into the same shape, with the request's path as
``instance``. So a client parses one kind of error everywhere, from every service.

What this module adds is the shop's glue around the piece:

- :class:`Problem`, the error the shop's code raises: a ``ProblemError`` with headers.
- A dependency that is down (Redis, PostgreSQL) is a 503 with a jittered ``Retry-After``, never
  a 500: clients that all failed at once should not all come back in the same second.
- :func:`crash_response`, the 500 that RequestContextMiddleware answers for an unhandled error,
  so that it carries the request's ``X-Request-ID``.
- The OpenAPI document says so too: :func:`error_responses` is the ``responses=`` of a route,
  every error as ``application/problem+json`` with the piece's ``Problem`` schema.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from capstone.common.logging import get_logger
from capstone.pieces import piece

contract = piece("gateway_contract")
PROBLEM_JSON: str = contract.PROBLEM_JSON
PROBLEM_SCHEMA: str = contract.Problem.__name__  # its name among the OpenAPI components
RETRY_AFTER_SECONDS = (1, 5)  # a dependency that is down: come back in 1 to 5 seconds
log = get_logger("capstone.problems")
# the piece's error class, known only once the piece is imported (yours or the reference)
ProblemError: Any = contract.ProblemError


class Problem(ProblemError):
    """An error the client should see: HTTP status, a short title, a specific detail, and the
    headers that tell the client what to do next (``Retry-After``, ``WWW-Authenticate``)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, title, detail or None, headers=headers)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each of ``statuses`` documented as problem+json."""
    ref = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}
    return {
        status: {"description": _reason(status), "content": {PROBLEM_JSON: {"schema": ref}}}
        for status in statuses
    }


def document_problems(app: FastAPI) -> None:
    """Adds the piece's ``Problem`` schema (and the schemas it uses) to the app's OpenAPI
    components, where :func:`error_responses` points."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            problem = contract.Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            components.update(problem.pop("$defs", {}))
            components[PROBLEM_SCHEMA] = problem
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def retry_after() -> str:
    """A jittered ``Retry-After`` value, in whole seconds."""
    return str(random.randint(*RETRY_AFTER_SECONDS))


def invalid_cursor() -> Problem:
    """The 422 for a paged list's cursor that the service did not make."""
    return Problem(422, "Invalid cursor", "use the next_cursor of the previous page")


def unavailable(what: str) -> Problem:
    return Problem(
        503,
        "Service Unavailable",
        f"{what} is unavailable; retry later",
        headers={"Retry-After": retry_after()},
    )


def problem_body(status: int, title: str, detail: str = "") -> dict[str, Any]:
    """A problem document as a dict, for an answer stored before it is sent (orders keeps the
    answer to an idempotent request, to send it again)."""
    problem = contract.Problem(title=title, status=status, detail=detail or None)
    body: dict[str, Any] = problem.model_dump(mode="json", exclude_none=True)
    return body


def problem_response(
    status: int,
    title: str,
    detail: str = "",
    headers: dict[str, str] | None = None,
    *,
    instance: str | None = None,
) -> JSONResponse:
    """A problem answered outside a route (by a middleware): the piece's ``problem_response``."""
    problem = contract.Problem(title=title, status=status, detail=detail or None, instance=instance)
    response: JSONResponse = contract.problem_response(problem, headers)
    return response


def install_problem_handlers(app: FastAPI) -> None:
    """The piece's handlers, and a 503 for a dependency that is down."""
    contract.install_problem_handlers(app)

    async def on_redis_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("redis unavailable", error=repr(exc))
        return on_unavailable(request, "redis")

    async def on_database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable", error=repr(exc))
        return on_unavailable(request, "the database")

    def on_unavailable(request: Request, what: str) -> JSONResponse:
        problem = unavailable(what)
        return problem_response(
            problem.status,
            problem.title,
            problem.detail,
            problem.headers,
            instance=request.url.path,
        )

    # Redis refused, timed out or had no free connection in time
    app.add_exception_handler(redis.exceptions.ConnectionError, on_redis_down)
    app.add_exception_handler(redis.exceptions.TimeoutError, on_redis_down)
    # PostgreSQL unreachable, a statement over its timeout, or no pooled connection in time
    app.add_exception_handler(sqlalchemy.exc.OperationalError, on_database_down)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, on_database_down)
    # anything else is a 500, answered by RequestContextMiddleware (so it carries X-Request-ID)
    # before the piece's own handler for it could


def crash_response(path: str | None = None) -> JSONResponse:
    """The answer to an unhandled error: nothing about it reaches the client (the piece's
    generic detail).

    ``Connection: close``: after an error nobody planned for, this connection is not worth
    keeping, and a keep-alive client (the gateway) must not send its next request down it."""
    return problem_response(
        500,
        _reason(500),
        contract.INTERNAL_DETAIL,
        headers={"Connection": "close"},
        instance=path,
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"

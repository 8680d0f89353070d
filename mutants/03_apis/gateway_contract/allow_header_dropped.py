"""Answers the 405 without its Allow header.

03.8 — The gateway contract, stage 2: one error format, problem+json (capstone piece).

Every error the shop's gateway returns is an RFC 9457 problem document, served as
``application/problem+json``::

    {"type": "about:blank", "title": "Not Found", "status": 404,
     "detail": "product 42 not found", "instance": "/api/v1/products/42"}

A validation error adds an ``errors`` member with one entry per invalid field, and an unexpected
exception becomes a 500 that says nothing about the server's internals. The request and
response models of stage 1 (03.7) are part of the contract and are imported from there.

FastAPI answers a body that is not valid JSON with the same 422 as an invalid field; this
contract says otherwise: malformed JSON is the client's syntax error, a 400.

Write the bodies of ``problem_response``, ``field_errors`` and ``install_problem_handlers``
(with handler functions of your own). ``Problem``, ``FieldError``, ``ProblemError`` and the
constants are given.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .gateway_models import (
    MAX_ID,
    MAX_LINES,
    MAX_PRICE_CENTS,
    MAX_QUANTITY,
    SKU_PATTERN,
    DbId,
    OrderIn,
    OrderItem,
    OrderOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    SafeStr,
)

__all__ = [  # the whole contract in one import: stage 1's models, and the error format
    "INTERNAL_DETAIL",
    "MALFORMED_JSON_DETAIL",
    "MAX_ID",
    "MAX_LINES",
    "MAX_PRICE_CENTS",
    "MAX_QUANTITY",
    "PROBLEM_JSON",
    "PROBLEM_RESPONSES",
    "PROBLEM_TYPE_BASE",
    "SKU_PATTERN",
    "VALIDATION_PROBLEM_TYPE",
    "VALIDATION_TITLE",
    "DbId",
    "FieldError",
    "OrderIn",
    "OrderItem",
    "OrderOut",
    "Problem",
    "ProblemError",
    "ProductIn",
    "ProductOut",
    "ProductPatch",
    "SafeStr",
    "field_errors",
    "install_problem_handlers",
    "problem_response",
]

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://shop.example/problems/"
VALIDATION_PROBLEM_TYPE = f"{PROBLEM_TYPE_BASE}validation-error"
VALIDATION_TITLE = "Your request is not valid."
INTERNAL_DETAIL = "An unexpected error occurred. Please try again later."
MALFORMED_JSON_DETAIL = "The request body is not valid JSON."

# -- the error format ------------------------------------------------------------------------


class FieldError(BaseModel):
    """One invalid input: ``field`` is a dotted path ("items.0.quantity"), ``location`` is
    where it was sent ("body", "query", "path", "header", "cookie")."""

    field: str
    location: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details document (with the ``errors`` extension member)."""

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Raise it from a route for a domain error: ``ProblemError(409, "Out of stock",
    "only 2 left", slug="out-of-stock")`` answers a problem with type PROBLEM_TYPE_BASE + slug.
    ``headers`` go out with the answer: ``ProblemError(429, "Too Many Requests",
    headers={"Retry-After": "30"})``."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = f"{PROBLEM_TYPE_BASE}{slug}" if slug else "about:blank"
        self.headers = dict(headers or {})


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": Problem,
        "content": {PROBLEM_JSON: {}},
        "description": HTTPStatus(status).phrase,
    }
    for status in (400, 404, 409, 422, 500)
}
"""Pass as ``responses=`` to a route or router so OpenAPI documents the problem bodies."""


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """``problem`` as an ``application/problem+json`` response with its status code.

    Members that are None are left out (RFC 9457 makes all but ``type`` optional).
    """
    return JSONResponse(
        content=problem.model_dump(mode="json", exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def field_errors(errors: list[Any]) -> list[FieldError]:
    """Pydantic/FastAPI error dicts (``exc.errors()``) as FieldErrors.

    ``loc`` ("body", "items", 0, "quantity") becomes location "body", field "items.0.quantity";
    a loc with only a location (a missing body) uses the location as the field.
    """
    converted = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        location, path = (loc[0], loc[1:]) if loc else ("body", [])
        converted.append(
            FieldError(field=".".join(path) or location, location=location, message=error["msg"])
        )
    return converted


async def _http_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTPStatus(exc.status_code).phrase
    # Starlette fills detail with the phrase when a route gave none: do not say it twice
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    problem = Problem(title=title, status=exc.status_code, detail=detail, instance=request.url.path)
    return problem_response(problem)


async def _validation_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        # A syntax error in the body is not an invalid field: FastAPI says 422, we say 400.
        malformed = Problem(
            title=HTTPStatus.BAD_REQUEST.phrase,
            status=400,
            detail=MALFORMED_JSON_DETAIL,
            instance=request.url.path,
        )
        return problem_response(malformed)
    errors = field_errors(list(exc.errors()))
    problem = Problem(
        type=VALIDATION_PROBLEM_TYPE,
        title=VALIDATION_TITLE,
        status=422,
        detail=f"{len(errors)} invalid field(s)",
        instance=request.url.path,
        errors=errors,
    )
    return problem_response(problem)


async def _domain_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    problem = Problem(
        type=exc.type,
        title=exc.title,
        status=exc.status,
        detail=exc.detail,
        instance=request.url.path,
    )
    return problem_response(problem, headers=exc.headers)


async def _internal_problem(request: Request, exc: Exception) -> JSONResponse:
    # Never echo str(exc): it can hold SQL, file paths or secrets. Starlette re-raises the
    # exception after this response, so the server still logs the full traceback.
    problem = Problem(
        title=HTTPStatus.INTERNAL_SERVER_ERROR.phrase,
        status=500,
        detail=INTERNAL_DETAIL,
        instance=request.url.path,
    )
    return problem_response(problem)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error ``app`` returns a problem+json document.

    - ``HTTPException`` (raised by routes, and by routing itself: unknown URL 404, wrong method
      405 keeping its ``Allow`` header): type "about:blank", title = the status phrase, detail =
      the exception's detail when it has one of its own.
    - ``RequestValidationError``: 422, type VALIDATION_PROBLEM_TYPE, title VALIDATION_TITLE,
      ``errors`` = one FieldError per invalid field. Except a body that is not valid JSON
      (FastAPI reports it as an error of type "json_invalid"): 400, type "about:blank", title
      "Bad Request", detail MALFORMED_JSON_DETAIL, no ``errors``.
    - ``ProblemError``: its status, title, detail and type, and its headers on the answer.
    - any other exception: 500, title "Internal Server Error", detail INTERNAL_DETAIL.
    Every problem has ``instance`` = the request's path.

    Register the first handler on ``starlette.exceptions.HTTPException``: routing raises that
    one, and FastAPI's HTTPException is a subclass of it. A handler for ``Exception`` answers
    the 500, after which Starlette re-raises the error so the server logs it (a TestClient
    shows the response only with ``raise_server_exceptions=False``).
    """
    # Starlette's HTTPException is the base of FastAPI's: routing errors raise the former
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(ProblemError, _domain_problem)
    app.add_exception_handler(Exception, _internal_problem)

"""Errors as RFC 9457 problem details, ``application/problem+json`` (lesson 03: APIs).

Raise :class:`Problem` anywhere in a handler; FastAPI's own errors (HTTPException, validation)
are turned into the same shape, so a client parses one kind of error everywhere.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from capstone.common.logging import get_logger

PROBLEM_JSON = "application/problem+json"
log = get_logger("capstone.problems")


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

    async def on_crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", error=repr(exc))
        # Starlette re-raises the error once this answer is sent, and uvicorn then closes the
        # connection: say so, or a keep-alive client (the gateway) sends its next request down
        # a connection that is about to close, and that request fails
        return problem_response(
            500,
            "Internal Server Error",
            "an unexpected error occurred",
            headers={"Connection": "close"},
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_crash)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"

"""Finds a repeated product only on neighbouring lines: 3, 4, 3 passes.

03.6 — The gateway's contract: request/response models and one error format.

Every error the shop's gateway returns is an RFC 9457 problem document, served as
``application/problem+json``::

    {"type": "about:blank", "title": "Not Found", "status": 404,
     "detail": "product 42 not found", "instance": "/api/v1/products/42"}

A validation error adds an ``errors`` member with one entry per invalid field, and an unexpected
exception becomes a 500 that says nothing about the server's internals. Money travels as a
decimal *string* ("12.50"), never as a float.
"""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://shop.example/problems/"
VALIDATION_PROBLEM_TYPE = f"{PROBLEM_TYPE_BASE}validation-error"
VALIDATION_TITLE = "Your request is not valid."
INTERNAL_DETAIL = "An unexpected error occurred. Please try again later."
SKU_PATTERN = r"^[A-Z]{3}-\d{4}$"
MAX_ORDER_LINES = 50
MAX_QUANTITY = 100

Money = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
OrderStatus = Literal["pending", "confirmed", "cancelled"]


# -- the error format ------------------------------------------------------------------------


class FieldError(BaseModel):
    """One invalid input: ``field`` is a dotted path ("lines.0.quantity"), ``location`` is
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
    "only 2 left", slug="out-of-stock")`` answers a problem with type PROBLEM_TYPE_BASE + slug."""

    def __init__(
        self, status: int, title: str, detail: str | None = None, *, slug: str | None = None
    ) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = f"{PROBLEM_TYPE_BASE}{slug}" if slug else "about:blank"


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

    ``loc`` ("body", "lines", 0, "quantity") becomes location "body", field "lines.0.quantity";
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
    return problem_response(problem, headers=dict(exc.headers or {}))


async def _validation_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
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
    return problem_response(problem)


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
      ``errors`` = one FieldError per invalid field.
    - ``ProblemError``: its status, title, detail and type.
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


# -- products ---------------------------------------------------------------------------------


class ProductCreate(BaseModel):
    """POST /api/v1/products (admin)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(pattern=SKU_PATTERN, examples=["MUG-0001"])
    name: str = Field(min_length=1, max_length=120)
    price: Money
    description: str = Field(default="", max_length=2000)

    @field_validator("sku", mode="before")
    @classmethod
    def normalise_sku(cls, value: object) -> object:
        """Accept " mug-0001 " as "MUG-0001": strip and upper-case before the pattern check."""
        return value.strip().upper() if isinstance(value, str) else value


class ProductOut(ProductCreate):
    """A product as the gateway returns it; ``from_attributes`` reads it from an ORM row."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(ge=1)


# -- orders -----------------------------------------------------------------------------------


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class OrderCreate(BaseModel):
    """POST /api/v1/orders: one line per product, at least one line."""

    model_config = ConfigDict(extra="forbid")

    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_ORDER_LINES)

    @model_validator(mode="after")
    def one_line_per_product(self) -> Self:
        previous: int | None = None
        for line in self.lines:
            if line.product_id == previous:
                raise ValueError(
                    f"product {line.product_id} appears twice: order it once, with a quantity"
                )
            previous = line.product_id
        return self


class OrderLineOut(BaseModel):
    product_id: int
    quantity: int
    unit_price: Decimal

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented pattern
    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderOut(BaseModel):
    """An order as the gateway returns it; ``total`` is computed, never sent by a client."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    status: OrderStatus
    lines: list[OrderLineOut]
    created_at: AwareDatetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> Decimal:
        # Decimal(0) start: sum() of Decimals stays exact
        return sum((line.line_total for line in self.lines), Decimal(0))

"""Sends its errors as application/json, where its document promises application/problem+json."""

# no `from __future__ import annotations`: FastAPI must see the route signatures evaluated,
# and they use `bearer`, which only exists inside create_app

import base64
import binascii
import secrets
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
MAX_ID = 2**63 - 1  # ids are 64-bit, as in a database


class ProductIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    price_cents: int = Field(ge=0, le=10_000_000)


class Product(ProductIn):
    id: int


class ProductPage(BaseModel):
    items: list[Product]
    next_cursor: str | None = Field(description="pass it back as `cursor` for the next page")


class ProblemDetails(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, **headers: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers


SEED = (ProductIn(name="Teapot", price_cents=1250), ProductIn(name="Kettle", price_cents=3999))


def create_app(token: str = "test-token", products: Iterable[ProductIn] = SEED) -> FastAPI:
    """The shop API; writes need ``Authorization: Bearer <token>``.

    - ``GET /api/v1/products?limit=&cursor=``: a page of at most ``limit`` products (1 to 100,
      20 by default), oldest first, and ``next_cursor``: an opaque string to pass back as
      ``cursor`` for the next page, ``null`` on the last page. A cursor the API did not make
      is a 422.
    - ``GET /api/v1/products/{product_id}``: one product, or 404.
    - ``POST /api/v1/products``: creates a product (201); 401 without a valid token.
    - Every error is ``application/problem+json`` (``type``, ``title``, ``status``,
      ``detail``), and the OpenAPI document lists each error a route can give. No request,
      however odd, gets a 5xx.

    What the document leaves open (a cursor's format, an error's wording, the order of fields)
    is not part of the contract.
    """
    catalog: dict[int, Product] = {}
    for product in products:
        catalog[len(catalog) + 1] = Product(id=len(catalog) + 1, **product.model_dump())
    bearer = HTTPBearer(auto_error=False)
    app = FastAPI(title="shop", version="1.0.0")

    def writer(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if credentials is None or not secrets.compare_digest(credentials.credentials, token):
            raise Problem(
                401,
                "Unauthorized",
                "a valid bearer token is needed",
                **{"WWW-Authenticate": "Bearer"},
            )

    @app.get(f"{API}/products", responses=_errors(422))
    def list_products(
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> ProductPage:
        after = _decode_cursor(cursor) if cursor is not None else 0
        ids = sorted(i for i in catalog if i > after)
        page = [catalog[i] for i in ids[:limit]]
        more = len(ids) > limit
        return ProductPage(items=page, next_cursor=_encode_cursor(page[-1].id) if more else None)

    @app.get(f"{API}/products/{{product_id}}", responses=_errors(404, 422))
    def get_product(product_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Product:
        if product_id not in catalog:
            raise Problem(404, "Not Found", f"no product {product_id}")
        return catalog[product_id]

    @app.post(
        f"{API}/products",
        status_code=201,
        responses=_errors(400, 401, 422),
        dependencies=[Depends(writer)],
    )
    def create_product(product: ProductIn) -> Product:
        new = Product(id=max(catalog, default=0) + 1, **product.model_dump())
        catalog[new.id] = new
        return new

    _install_problems(app)
    return app


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "after" and number.isdigit() and len(number) < 20:
            return int(number)
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise Problem(422, "Unprocessable Content", "this cursor was not made by this API")


def _problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Any:
    body = ProblemDetails(title=title, status=status, detail=detail).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: these errors, as problem+json."""
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    return {
        s: {"description": "an error", "content": {PROBLEM_JSON: {"schema": schema}}}
        for s in statuses
    }


def _install_problems(app: FastAPI) -> None:
    async def on_problem(_: Request, error: Exception) -> Any:
        assert isinstance(error, Problem)
        return _problem(error.status, error.title, error.detail, error.headers)

    async def on_http(_: Request, error: Exception) -> Any:
        assert isinstance(error, HTTPException)
        return _problem(error.status_code, "Error", str(error.detail), dict(error.headers or {}))

    async def on_invalid(_: Request, error: Exception) -> Any:
        assert isinstance(error, RequestValidationError)
        return _problem(422, "Unprocessable Content", "the request does not match the schema")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas["ProblemDetails"] = ProblemDetails.model_json_schema()
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

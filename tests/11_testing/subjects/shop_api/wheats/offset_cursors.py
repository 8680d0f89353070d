"""A correct shop API with cursors of its own, other error wording, and one more field."""

# no `from __future__ import annotations`: FastAPI must see the route signatures evaluated

import re
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class ProductIn(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    price_cents: int = Field(ge=0, le=10_000_000)


class Product(ProductIn):
    id: int
    currency: str = "EUR"


class ProductPage(BaseModel):
    items: list[Product]
    next_cursor: str | None


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str | None = None


class Refused(Exception):
    def __init__(self, status: int, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail = status, kind, detail


SEED = (ProductIn(name="Teapot", price_cents=1250), ProductIn(name="Kettle", price_cents=3999))
CURSOR = re.compile(r"o-([0-9a-f]{1,12})")


def _documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"description": "see the problem", "content": {PROBLEM: {"schema": PROBLEM_REF}}}
        for status in statuses
    }


def create_app(token: str = "test-token", products: Iterable[ProductIn] = SEED) -> FastAPI:
    rows = [Product(id=n, **p.model_dump()) for n, p in enumerate(products, start=1)]
    app = FastAPI(title="shop (offset cursors)", version="2.0.0")
    HTTPBearer(auto_error=False)  # only for the document's security scheme, see below

    @app.get("/api/v1/products", responses=_documented(422))
    def page_of_products(
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> ProductPage:
        start = 0
        if cursor is not None:
            found = CURSOR.fullmatch(cursor)
            if not found:
                raise Refused(422, "bad-cursor", "unknown cursor")
            start = int(found[1], 16)
        end = start + limit
        more = end < len(rows)
        return ProductPage(items=rows[start:end], next_cursor=f"o-{end:x}" if more else None)

    @app.get("/api/v1/products/{product_id}", responses=_documented(404, 422))
    def one_product(product_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> Product:
        for row in rows:
            if row.id == product_id:
                return row
        raise Refused(404, "missing", "there is no such product")

    @app.post(
        "/api/v1/products",
        status_code=201,
        responses=_documented(400, 401, 422),
        openapi_extra={"security": [{"HTTPBearer": []}]},
    )
    def new_product(
        product: ProductIn,
        authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    ) -> Product:
        if authorization != f"Bearer {token}":
            raise Refused(401, "no-token", "log in first")
        row = Product(id=len(rows) + 1, **product.model_dump())
        rows.append(row)
        return row

    def problem(status: int, kind: str, detail: str) -> JSONResponse:
        body = {"type": f"https://shop.example/problems/{kind}", "title": kind, "status": status}
        body["detail"] = detail
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)

    async def refused(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Refused)
        return problem(error.status, error.kind, error.detail)

    async def http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        return problem(error.status_code, "http", str(error.detail))

    async def invalid(_: Request, error: Exception) -> JSONResponse:
        return problem(422, "invalid", "see the OpenAPI document")

    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, routes=app.routes)
            components = document.setdefault("components", {})
            components.setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
            components["securitySchemes"] = {"HTTPBearer": {"type": "http", "scheme": "bearer"}}
            for unused in ("HTTPValidationError", "ValidationError"):
                components["schemas"].pop(unused, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app

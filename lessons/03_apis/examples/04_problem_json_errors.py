"""One error format for every failure: RFC 9457 problem details (application/problem+json).

Run: uv run python lessons/03_apis/examples/04_problem_json_errors.py

Exception handlers turn a route's HTTPException, a validation error and an unexpected crash into
the same JSON shape, called in-process through FastAPI's TestClient.
"""

from __future__ import annotations

import warnings
from http import HTTPStatus

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PROBLEM_JSON = "application/problem+json"


def problem(
    request: Request, status: int, detail: str | None = None, **extra: object
) -> JSONResponse:
    body: dict[str, object] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = str(exc.detail)
    # Starlette fills an empty detail with the status phrase: do not repeat the title
    return problem(
        request, exc.status_code, None if detail == HTTPStatus(exc.status_code).phrase else detail
    )


async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]} for e in exc.errors()
    ]
    return problem(
        request,
        422,
        f"{len(errors)} invalid field(s)",
        type="https://shop.example/problems/validation-error",
        title="Your request is not valid.",
        errors=errors,
    )


async def on_crash(request: Request, exc: Exception) -> JSONResponse:
    # the log gets the traceback; the client gets nothing it could exploit
    return problem(request, 500, "An unexpected error occurred.")


class OrderLine(BaseModel):
    product_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=100)


def create_app() -> FastAPI:
    app = FastAPI()
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(Exception, on_crash)

    @app.get("/products/{product_id}")
    def get_product(product_id: int) -> dict[str, int]:
        raise HTTPException(404, f"product {product_id} not found")

    @app.post("/orders")
    def place_order(line: OrderLine) -> OrderLine:
        return line

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("db password is hunter2")

    return app


def main() -> None:
    client = TestClient(create_app(), raise_server_exceptions=False)
    calls = [
        ("GET", "/products/42", None),
        ("POST", "/orders", {"product_id": 0, "quantity": 500}),
        ("GET", "/crash", None),
        ("PUT", "/products/1", None),
    ]
    for method, path, body in calls:
        response = client.request(method, path, json=body)
        print(f"{method} {path} -> {response.status_code} {response.headers['content-type']}")
        print("   ", response.json())


if __name__ == "__main__":
    main()

"""One error format for every failure: RFC 9457 problem details (application/problem+json).

Run: uv run python lessons/03_apis/examples/04_problem_json_errors.py

Exception handlers turn a route's HTTPException, a validation error and an unexpected crash into
the same JSON shape, called in-process through FastAPI's TestClient. Then: FastAPI answers a
body that is not JSON with 422, like an invalid field; a handler and a dependency make it 400
(malformed JSON) and 415 (not JSON at all).
"""

from __future__ import annotations

import warnings
from http import HTTPStatus

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 for its TestClient; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PROBLEM_JSON = "application/problem+json"


def problem(
    request: Request,
    status: int,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: object,
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
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = str(exc.detail)
    # Starlette fills an empty detail with the status phrase: do not repeat the title
    phrase = HTTPStatus(exc.status_code).phrase
    # keep the exception's headers: a 405 says which methods are allowed (Allow)
    return problem(request, exc.status_code, None if detail == phrase else detail, exc.headers)


async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(e["type"] == "json_invalid" for e in exc.errors()):
        # FastAPI reports a body that does not parse as a validation error; we call it a 400
        return problem(request, 400, "the request body is not valid JSON")
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


def require_json(request: Request) -> None:
    """A dependency: refuse a body that is not declared as JSON with 415."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip()
    if media_type != "application/json":
        raise HTTPException(415, "send the body as application/json")


def create_app() -> FastAPI:
    app = FastAPI()
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(Exception, on_crash)

    @app.get("/products/{product_id}")
    def get_product(product_id: int) -> dict[str, int]:
        raise HTTPException(404, f"product {product_id} not found")

    @app.post("/orders", dependencies=[Depends(require_json)])
    def place_order(line: OrderLine) -> OrderLine:
        return line

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("db password is hunter2")

    return app


def fastapi_defaults() -> None:
    plain = FastAPI()

    @plain.post("/orders")
    def place_order(line: OrderLine) -> OrderLine:
        return line

    client = TestClient(plain)
    print("\nFastAPI's own answers, before any handler:")
    for label, kwargs in BODIES:
        response = client.post("/orders", **kwargs)
        print(f"  {label:22} -> {response.status_code} {response.json()['detail'][0]['type']}")


BODIES: list[tuple[str, dict[str, object]]] = [
    (
        "malformed JSON",
        {"content": '{"product_id": 1,', "headers": {"content-type": "application/json"}},
    ),
    ("plain text", {"content": "one mug please", "headers": {"content-type": "text/plain"}}),
    ("a form", {"data": {"product_id": "1", "quantity": "2"}}),
]


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
        allow = f" Allow: {response.headers['allow']}" if "allow" in response.headers else ""
        print(
            f"{method} {path} -> {response.status_code} {response.headers['content-type']}{allow}"
        )
        print("   ", response.json())
    fastapi_defaults()
    print("with the json_invalid handler and the require_json dependency:")
    for label, kwargs in BODIES:
        response = client.post("/orders", **kwargs)
        print(f"  {label:22} -> {response.status_code} {response.json()['detail']}")


if __name__ == "__main__":
    main()

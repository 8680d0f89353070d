"""03.8 — The gateway contract, stage 2: problem+json errors (capstone piece)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient

from journey.targets import load

gc = load(__file__, "gateway_contract")

SECRET = "password=hunter2 in /srv/shop/db.py line 42"


def shop_client() -> TestClient:
    """A tiny gateway-like app: its routes raise every kind of error the contract covers."""
    app = FastAPI()
    gc.install_problem_handlers(app)

    @app.get("/api/v1/products/{product_id}", response_model=gc.ProductOut)
    def get_product(product_id: int) -> dict[str, Any]:
        if product_id == 1:
            return {
                "id": 1,
                "sku": "MUG-01",
                "name": "Mug",
                "description": "",
                "price_cents": 1250,
                "created_at": "2025-01-02T03:04:05Z",
                "updated_at": "2025-01-02T03:04:05Z",
            }
        raise HTTPException(404, f"product {product_id} not found")

    @app.post("/api/v1/orders", status_code=201)
    def place_order(order: gc.OrderIn) -> dict[str, int]:
        if order.items[0].quantity > 10:
            raise gc.ProblemError(409, "Out of stock", "only 10 left", slug="out-of-stock")
        return {"items": len(order.items)}

    @app.get("/api/v1/orders")
    def list_orders() -> None:
        raise gc.ProblemError(429, "Too Many Requests", headers={"Retry-After": "30"})

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError(SECRET)

    # raise_server_exceptions=False: see the 500 response instead of the re-raised error
    return TestClient(app, raise_server_exceptions=False)


def assert_problem(response: Any, status: int, path: str) -> dict[str, Any]:
    assert response.status_code == status, f"expected status {status}"
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith(gc.PROBLEM_JSON), (
        f"errors are served as {gc.PROBLEM_JSON}, got {content_type!r}"
    )
    body = response.json()
    assert body.get("status") == status, "the 'status' member repeats the HTTP status"
    assert body.get("title"), "every problem has a short human-readable 'title'"
    assert body.get("type"), "every problem has a 'type' URI ('about:blank' for plain HTTP)"
    assert body.get("instance") == path, "'instance' is the path of the request that failed"
    return body


def test_problem_response() -> None:
    problem = gc.Problem(title="Not Found", status=404, detail="product 42 not found")
    response = gc.problem_response(problem, headers={"X-Request-Id": "abc"})
    assert response.status_code == 404, "the response status is the problem's status"
    assert response.media_type == gc.PROBLEM_JSON, "the media type is application/problem+json"
    assert response.headers.get("x-request-id") == "abc", "extra headers are passed on"
    import json

    body = json.loads(bytes(response.body))
    assert body == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "product 42 not found",
    }, "None members (instance, errors) are left out of the document"


def test_field_errors_flatten_locations() -> None:
    got = gc.field_errors(
        [
            {"loc": ("body", "items", 0, "quantity"), "msg": "too small", "type": "x"},
            {"loc": ("query", "limit"), "msg": "bad limit", "type": "x"},
            {"loc": ("body",), "msg": "Field required", "type": "missing"},
        ]
    )
    assert [(e.location, e.field, e.message) for e in got] == [
        ("body", "items.0.quantity", "too small"),
        ("query", "limit", "bad limit"),
        ("body", "body", "Field required"),
    ], "location is loc[0]; field joins the rest with dots (or repeats the location)"


def test_success_passes_through_untouched() -> None:
    response = shop_client().get("/api/v1/products/1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    product = response.json()
    assert (product["price_cents"], product["price"]) == (1250, "12.50"), (
        "the route's answer goes out through stage 1's ProductOut, its computed price included"
    )


def test_404_from_a_route() -> None:
    response = shop_client().get("/api/v1/products/42")
    body = assert_problem(response, 404, "/api/v1/products/42")
    assert body["type"] == "about:blank", "a plain HTTP error uses type 'about:blank'"
    assert body["title"] == "Not Found", "with about:blank the title is the status phrase"
    assert body["detail"] == "product 42 not found", "the route's detail is kept"
    assert "errors" not in body, "only validation problems carry 'errors'"


def test_404_and_405_from_routing() -> None:
    api = shop_client()
    unknown = assert_problem(api.get("/api/v1/nowhere"), 404, "/api/v1/nowhere")
    assert unknown["title"] == "Not Found"
    wrong = api.delete("/api/v1/products/1")
    body = assert_problem(wrong, 405, "/api/v1/products/1")
    assert body["title"] == "Method Not Allowed"
    assert wrong.headers.get("allow") == "GET", "a 405 keeps its Allow header"


def test_validation_422_lists_every_invalid_field() -> None:
    api = shop_client()
    body = {"items": [{"product_id": 1, "quantity": 0}, {"product_id": 0, "quantity": 2}]}
    response = api.post("/api/v1/orders", json=body)
    problem = assert_problem(response, 422, "/api/v1/orders")
    assert problem["type"] == gc.VALIDATION_PROBLEM_TYPE
    assert problem["title"] == gc.VALIDATION_TITLE
    errors = {(e["location"], e["field"]) for e in problem["errors"]}
    assert errors == {("body", "items.0.quantity"), ("body", "items.1.product_id")}, (
        "one entry per invalid field, located with a dotted path"
    )
    assert all(e["message"] for e in problem["errors"]), "each entry says what is wrong"


def test_validation_of_path_parameters() -> None:
    response = shop_client().get("/api/v1/products/mug")
    problem = assert_problem(response, 422, "/api/v1/products/mug")
    assert [(e["location"], e["field"]) for e in problem["errors"]] == [("path", "product_id")]


def test_domain_error_has_its_own_type() -> None:
    response = shop_client().post(
        "/api/v1/orders", json={"items": [{"product_id": 1, "quantity": 11}]}
    )
    body = assert_problem(response, 409, "/api/v1/orders")
    assert body["type"] == f"{gc.PROBLEM_TYPE_BASE}out-of-stock", "type = base URI + slug"
    assert body["title"] == "Out of stock"
    assert body["detail"] == "only 10 left"


def test_a_domain_error_keeps_its_headers() -> None:
    response = shop_client().get("/api/v1/orders")
    body = assert_problem(response, 429, "/api/v1/orders")
    assert body["title"] == "Too Many Requests"
    assert response.headers.get("retry-after") == "30", "a ProblemError's headers go out too"


@pytest.mark.parametrize("body", ['{"items": [', "items=1", "{'items': []}"])
def test_a_body_that_is_not_json_is_a_400(body: str) -> None:
    response = shop_client().post(
        "/api/v1/orders", content=body, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 400, "/api/v1/orders")
    assert problem["title"] == "Bad Request"
    assert problem["detail"] == gc.MALFORMED_JSON_DETAIL, "the detail says the JSON is broken"
    assert "errors" not in problem, (
        "a syntax error in the body is not a list of invalid fields: FastAPI reports it as a "
        "validation error of type 'json_invalid', and this contract answers it with a 400"
    )


def test_unhandled_error_is_a_500_that_leaks_nothing() -> None:
    response = shop_client().get("/api/v1/boom")
    body = assert_problem(response, 500, "/api/v1/boom")
    assert body["title"] == "Internal Server Error"
    assert body.get("detail") == gc.INTERNAL_DETAIL, "a generic detail, the same every time"
    for leak in ("hunter2", "RuntimeError", "db.py", "Traceback"):
        assert leak not in response.text, f"a 500 must not reveal internals ({leak!r} leaked)"


def test_openapi_documents_problem_responses() -> None:
    app = FastAPI()
    gc.install_problem_handlers(app)

    @app.get("/api/v1/products/{product_id}", responses=gc.PROBLEM_RESPONSES)
    def get_product(product_id: int) -> gc.ProductOut:
        raise HTTPException(404)

    schema = app.openapi()
    responses = schema["paths"]["/api/v1/products/{product_id}"]["get"]["responses"]
    assert gc.PROBLEM_JSON in responses["404"]["content"], "404 is documented as problem+json"
    assert "Problem" in schema["components"]["schemas"], "the Problem model is in the schema"
    live = TestClient(app).get("/api/v1/products/5")
    assert live.headers.get("content-type", "").startswith(gc.PROBLEM_JSON), (
        "what the docs promise is what the API sends"
    )
    problem = gc.Problem.model_validate(live.json())
    assert (problem.status, problem.title, problem.detail) == (404, "Not Found", None), (
        "an HTTPException without a detail of its own gives no 'detail' member"
    )

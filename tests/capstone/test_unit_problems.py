"""Every service's errors, in-process: lesson 03's problem+json piece (exercise 03.8) and the
shop's glue around it (capstone/common/problems.py), on the app skeleton every service uses."""

from __future__ import annotations

from typing import Any

import pytest
import redis.exceptions
from fastapi.testclient import TestClient
from pydantic import BaseModel

from capstone.common.problems import PROBLEM_JSON, Problem, contract, error_responses
from capstone.common.service import create_app


class Thing(BaseModel):
    quantity: int


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = create_app("probe", lifespan=None, checks={})

    @app.post("/things", responses=error_responses(400, 422, 429, 503))
    async def add(thing: Thing) -> dict[str, int]:
        if thing.quantity > 10:
            raise Problem(429, "Too Many Requests", "slow down", headers={"Retry-After": "7"})
        if thing.quantity == 10:
            raise redis.exceptions.ConnectionError("refused")
        if thing.quantity == 9:
            raise RuntimeError("password=hunter2")
        return {"quantity": thing.quantity}

    return TestClient(app, raise_server_exceptions=False)


def problem(reply: Any, status: int) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = reply.json()
    assert body["status"] == status
    assert body["instance"] == "/things", "the path of the request that failed"
    return body


def test_a_shop_problem_keeps_its_headers(client: TestClient) -> None:
    reply = client.post("/things", json={"quantity": 11})
    assert problem(reply, 429)["detail"] == "slow down"
    assert reply.headers["retry-after"] == "7"


def test_an_invalid_field_and_a_body_that_is_not_json(client: TestClient) -> None:
    invalid = problem(client.post("/things", json={"quantity": "many"}), 422)
    assert invalid["type"] == contract.VALIDATION_PROBLEM_TYPE
    assert [(e["location"], e["field"]) for e in invalid["errors"]] == [("body", "quantity")]
    malformed = client.post(
        "/things", content=b'{"quantity": ', headers={"content-type": "application/json"}
    )
    assert problem(malformed, 400)["detail"] == contract.MALFORMED_JSON_DETAIL


def test_a_dependency_down_is_a_503_with_a_jittered_retry_after(client: TestClient) -> None:
    reply = client.post("/things", json={"quantity": 10})
    problem(reply, 503)
    assert 1 <= int(reply.headers["retry-after"]) <= 5


def test_an_unhandled_error_is_a_500_with_its_request_id_and_nothing_else(
    client: TestClient,
) -> None:
    reply = client.post("/things", json={"quantity": 9}, headers={"X-Request-ID": "probe-1234"})
    assert problem(reply, 500)["detail"] == contract.INTERNAL_DETAIL
    assert reply.headers["x-request-id"] == "probe-1234"
    assert reply.headers["connection"] == "close"
    assert "hunter2" not in reply.text


def test_the_document_points_every_error_at_the_pieces_schema(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["Problem"]["properties"].keys() == contract.Problem.model_fields.keys()
    assert "FieldError" in schemas, "the schema of each entry of errors"
    responses = document["paths"]["/things"]["post"]["responses"]
    for status in ("400", "422", "429", "503"):
        content = responses[status]["content"]
        assert content == {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}

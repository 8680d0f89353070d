"""11.7 A consumer-driven contract (core): the storefront writes down what it needs from the
catalog API, tests itself against that contract, and the catalog is verified against it.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from journey.targets import load

catalog_api = load(__file__, "catalog_api")
storefront = load(__file__, "storefront")

# What the storefront needs, in the shape of a Pact file. A response body lists only the
# fields the storefront reads; the provider must send each, with a value of the same JSON
# type (the values themselves are examples), and may send more.
CONTRACT: dict[str, Any] = {
    "consumer": "storefront",
    "provider": "catalog",
    "interactions": [
        {
            "description": "a product in stock",
            "provider_state": "product 42 is a teapot in stock, at 12.50 EUR",
            "request": {"method": "GET", "path": "/products/42"},
            "response": {
                "status": 200,
                "body": {
                    "name": "Teapot",
                    "price_cents": 1250,
                    "currency": "EUR",
                    "in_stock": True,
                },
            },
        },
        {
            "description": "a product out of stock",
            "provider_state": "product 7 is a kettle out of stock, at 39.99 USD",
            "request": {"method": "GET", "path": "/products/7"},
            "response": {
                "status": 200,
                "body": {
                    "name": "Kettle",
                    "price_cents": 3999,
                    "currency": "USD",
                    "in_stock": False,
                },
            },
        },
        {
            "description": "a product that does not exist",
            "provider_state": "there is no product 99",
            "request": {"method": "GET", "path": "/products/99"},
            "response": {"status": 404},
        },
    ],
}

# How the provider's test sets up each state: the products the catalog starts with.
PROVIDER_STATES: dict[str, list[Any]] = {
    "product 42 is a teapot in stock, at 12.50 EUR": [
        catalog_api.Product(42, "Teapot", 1250, "EUR", stock=3)
    ],
    "product 7 is a kettle out of stock, at 39.99 USD": [
        catalog_api.Product(7, "Kettle", 3999, "USD", stock=0)
    ],
    "there is no product 99": [catalog_api.Product(42, "Teapot", 1250)],
}


def _like(expected: Any, actual: Any) -> bool:
    """Pact's type matching: every expected field is there with a value of the same JSON type
    (a boolean is not a number), lists item by item; extra fields are allowed."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _like(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and all(_like(expected[0], item) for item in actual)
    return type(actual) is type(expected)


def _mock_catalog(used: list[str]) -> httpx.MockTransport:
    """A stand-in catalog that answers exactly as the contract says, and notes what is used."""

    def answer(request: httpx.Request) -> httpx.Response:
        for interaction in CONTRACT["interactions"]:
            wanted = interaction["request"]
            if (request.method, request.url.path) == (wanted["method"], wanted["path"]):
                used.append(interaction["description"])
                response = interaction["response"]
                if "body" in response:
                    return httpx.Response(response["status"], json=response["body"])
                return httpx.Response(response["status"])
        raise AssertionError(f"the contract has no {request.method} {request.url.path}")

    return httpx.MockTransport(answer)


def test_the_storefront_works_against_the_contract() -> None:
    used: list[str] = []
    http = httpx.Client(transport=_mock_catalog(used), base_url="http://catalog.test")
    with http:
        client = storefront.CatalogClient(http)
        assert client.card(42) == storefront.ProductCard("Teapot", "12.50 EUR", True)
        assert client.card(7) == storefront.ProductCard("Kettle", "39.99 USD", False)
        assert client.card(99) is None
    described = [i["description"] for i in CONTRACT["interactions"]]
    assert sorted(used) == sorted(described), "every interaction is one the storefront uses"


@pytest.mark.parametrize(
    "interaction", CONTRACT["interactions"], ids=lambda i: i["description"].replace(" ", "-")
)
def test_the_catalog_honours_the_contract(interaction: dict[str, Any]) -> None:
    app = catalog_api.create_app(PROVIDER_STATES[interaction["provider_state"]])
    request, expected = interaction["request"], interaction["response"]
    with TestClient(app) as client:
        response = client.request(request["method"], request["path"])
    assert response.status_code == expected["status"], response.text
    if "body" in expected:
        assert _like(expected["body"], response.json()), (
            f"{interaction['description']}: {response.json()} does not have the shape "
            f"{expected['body']} (every field the storefront reads, with the same JSON type)"
        )

"""11.7 A consumer-driven contract (core): the storefront writes down what it needs from the
catalog API, tests itself against that contract, and the catalog is verified against it.

Two modules sit beside this file: ``storefront.py``, the consumer (read what it does with the
catalog's answers), and ``catalog_api.py``, the provider under test. Pact's model, without
Pact's tools:

1. the consumer's team writes the contract: for each request the consumer makes, the response
   it needs, with only the fields it reads (values are examples: the provider must send each
   field with a value of the same JSON type, and may send more);
2. the consumer's tests run against a stand-in provider that answers exactly as the contract
   says, so the contract is known to be enough for the consumer;
3. the provider's tests replay each request against the real provider, set up in the state the
   interaction names, and check the answer against the contract.

A correct catalog may add fields, drop the ones the storefront does not read, reorder them, or
word its errors differently: a contract that asks for more than the storefront reads fails on
such a catalog. One that asks for less lets a breaking change through.
"""

from __future__ import annotations

from typing import Any

import httpx  # noqa: F401 - the tests you write will use them
import pytest  # noqa: F401
from fastapi.testclient import TestClient  # noqa: F401

from journey.targets import load

catalog_api = load(__file__, "catalog_api")
storefront = load(__file__, "storefront")

# The storefront's contract with the catalog, in the shape of a Pact file. Each interaction:
# {"description": ..., "provider_state": ..., "request": {"method": ..., "path": ...},
#  "response": {"status": ..., "body": {...}}}  (no "body" when the storefront reads none)
CONTRACT: dict[str, Any] = {"consumer": "storefront", "provider": "catalog", "interactions": []}

# For each provider_state of the contract, the products the catalog starts with
# (catalog_api.Product(...)), so the provider's test can set the state up.
PROVIDER_STATES: dict[str, list[Any]] = {}


def test_the_storefront_works_against_the_contract() -> None:
    """Serve the contract's responses from an ``httpx.MockTransport`` (find the interaction
    by method and path), call ``storefront.CatalogClient(http).card(...)`` for each, check the
    cards (in stock, out of stock, and ``None`` for a product that does not exist), and check
    that every interaction was used."""
    raise NotImplementedError("11.7: fill CONTRACT, then test the storefront against it")


def test_the_catalog_honours_the_contract() -> None:
    """Parametrize over ``CONTRACT["interactions"]``: build ``catalog_api.create_app`` with
    the state's products, replay the request with FastAPI's ``TestClient``, and check the
    status and, when the contract has a body, that each of its fields is in the answer with a
    value of the same JSON type (``True`` is a boolean, not a number)."""
    raise NotImplementedError("11.7: replay each interaction against the catalog")

"""03.5 — Two versions of one resource, side by side.

v1 of /customers has a single ``name``; v2 splits it into ``first_name`` and ``last_name``: a
breaking change, so it gets a new version instead of changing v1 under its clients' feet. Both
versions are views of the same store, so a customer created through one is visible through the
other.

Write, over the given store and models:

- ``split_name`` / ``join_name``: convert between v1's one name and the stored two.
- ``v1_router(store)``: an APIRouter with prefix "/customers" and GET "", POST "", GET
  "/{customer_id}" in the v1 shape (CustomerV1In / CustomerV1Out). POST answers 201 with a
  Location header (``/api/v1/customers/{id}``); an unknown id is a 404. Every successful v1
  response carries two headers: ``Deprecation: V1_DEPRECATION`` and ``Link: V1_SUCCESSOR_LINK``
  (take ``response: Response`` as a route parameter and set ``response.headers``). Pass
  ``deprecated=True`` to the router so the OpenAPI docs mark v1 deprecated.
- ``v2_router(store)``: the same three routes in the v2 shape (CustomerV2In / CustomerV2Out),
  Location ``/api/v2/customers/{id}``, no deprecation headers.
- ``create_app(store=None)``: a new FastAPI app with v1_router mounted at V1_PREFIX and
  v2_router at V2_PREFIX, both over the same store (a fresh CustomerStore when None).
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Lock

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict, Field

V1_PREFIX = "/api/v1"
V2_PREFIX = "/api/v2"
V1_DEPRECATION = "@1767225600"
"""RFC 9745 ``Deprecation`` header value for v1: deprecated since 2026-01-01 (a Unix time)."""
V1_SUCCESSOR_LINK = f'<{V2_PREFIX}/customers>; rel="successor-version"'


@dataclass(frozen=True)
class Customer:
    """How the store keeps a customer, whatever the version that wrote it."""

    id: int
    first_name: str
    last_name: str


class CustomerStore:
    """An in-memory store of customers shared by every API version. (Given.)"""

    def __init__(self) -> None:
        self._customers: dict[int, Customer] = {}
        self._lock = Lock()

    def add(self, first_name: str, last_name: str) -> Customer:
        with self._lock:
            customer = Customer(len(self._customers) + 1, first_name, last_name)
            self._customers[customer.id] = customer
        return customer

    def get(self, customer_id: int) -> Customer | None:
        return self._customers.get(customer_id)

    def all(self) -> list[Customer]:
        return [self._customers[i] for i in sorted(self._customers)]


# -- v1: one name -------------------------------------------------------------------------


class CustomerV1In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=200)


class CustomerV1Out(BaseModel):
    id: int
    name: str


def split_name(name: str) -> tuple[str, str]:
    """v1's ``name`` as (first_name, last_name): the first word, then the rest ("" if none).

    Runs of whitespace count as one space: "  Ada   King  Lovelace " gives the same result.

    >>> split_name("Ada King Lovelace")
    ('Ada', 'King Lovelace')
    """
    raise NotImplementedError("03.5: split a v1 name into first and last name")


def join_name(customer: Customer) -> str:
    """The v1 ``name`` of a stored customer: first and last name with one space between,
    or just the first name when the last name is empty ("Cher", not "Cher ")."""
    raise NotImplementedError("03.5: join first and last name into a v1 name")


def v1_router(store: CustomerStore) -> APIRouter:
    """/customers in the v1 shape; every response carries the deprecation headers."""
    raise NotImplementedError("03.5: write the v1 routes")


# -- v2: first and last name ---------------------------------------------------------------


class CustomerV2In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)


class CustomerV2Out(BaseModel):
    id: int
    first_name: str
    last_name: str


def v2_router(store: CustomerStore) -> APIRouter:
    """/customers in the v2 shape."""
    raise NotImplementedError("03.5: write the v2 routes")


def create_app(store: CustomerStore | None = None) -> FastAPI:
    """One app, both versions mounted: v1 under /api/v1, v2 under /api/v2, over one store."""
    raise NotImplementedError("03.5: mount both routers on one app, over one store")

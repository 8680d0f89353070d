"""03.5 — Two versions of one resource, side by side.

v1 of /customers has a single ``name``; v2 splits it into ``first_name`` and ``last_name``: a
breaking change, so it gets a new version instead of changing v1 under its clients' feet. Both
versions are views of the same store, so a customer created through one is visible through the
other.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Lock

from fastapi import APIRouter, FastAPI, HTTPException, Response, status
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
    """An in-memory store of customers shared by every API version."""

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
    first, _, last = " ".join(name.split()).partition(" ")
    return first, last


def join_name(customer: Customer) -> str:
    """The v1 ``name`` of a stored customer: first and last name with one space between,
    or just the first name when the last name is empty ("Cher", not "Cher ")."""
    return f"{customer.first_name} {customer.last_name}".strip()


def _v1_out(customer: Customer) -> CustomerV1Out:
    return CustomerV1Out(id=customer.id, name=join_name(customer))


def _deprecate(response: Response) -> None:
    # clients (and their tooling) learn from every v1 response that v2 replaces it
    response.headers["Deprecation"] = V1_DEPRECATION
    response.headers["Link"] = V1_SUCCESSOR_LINK


def _not_found(customer_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"customer {customer_id} not found")


def v1_router(store: CustomerStore) -> APIRouter:
    """/customers in the v1 shape; every response carries the deprecation headers."""
    router = APIRouter(prefix="/customers", tags=["customers v1"], deprecated=True)

    @router.get("", response_model=list[CustomerV1Out])
    def list_customers(response: Response) -> list[CustomerV1Out]:
        _deprecate(response)
        return [_v1_out(c) for c in store.all()]

    @router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerV1Out)
    def create_customer(body: CustomerV1In, response: Response) -> CustomerV1Out:
        customer = store.add(*split_name(body.name))
        _deprecate(response)
        response.headers["Location"] = f"{V1_PREFIX}/customers/{customer.id}"
        return _v1_out(customer)

    @router.get("/{customer_id}", response_model=CustomerV1Out)
    def get_customer(customer_id: int, response: Response) -> CustomerV1Out:
        customer = store.get(customer_id)
        if customer is None:
            raise _not_found(customer_id)
        _deprecate(response)
        return _v1_out(customer)

    return router


# -- v2: first and last name ---------------------------------------------------------------


class CustomerV2In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)


class CustomerV2Out(BaseModel):
    id: int
    first_name: str
    last_name: str


def _v2_out(customer: Customer) -> CustomerV2Out:
    return CustomerV2Out(
        id=customer.id, first_name=customer.first_name, last_name=customer.last_name
    )


def v2_router(store: CustomerStore) -> APIRouter:
    """/customers in the v2 shape."""
    router = APIRouter(prefix="/customers", tags=["customers v2"])

    @router.get("", response_model=list[CustomerV2Out])
    def list_customers() -> list[CustomerV2Out]:
        return [_v2_out(c) for c in store.all()]

    @router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerV2Out)
    def create_customer(body: CustomerV2In, response: Response) -> CustomerV2Out:
        customer = store.add(body.first_name, body.last_name)
        response.headers["Location"] = f"{V2_PREFIX}/customers/{customer.id}"
        return _v2_out(customer)

    @router.get("/{customer_id}", response_model=CustomerV2Out)
    def get_customer(customer_id: int) -> CustomerV2Out:
        customer = store.get(customer_id)
        if customer is None:
            raise _not_found(customer_id)
        return _v2_out(customer)

    return router


def create_app(store: CustomerStore | None = None) -> FastAPI:
    """One app, both versions mounted: v1 under /api/v1, v2 under /api/v2, over one store."""
    if store is None:
        store = CustomerStore()
    app = FastAPI(title="Customers", version="2.0.0")
    app.include_router(v1_router(store), prefix=V1_PREFIX)
    app.include_router(v2_router(store), prefix=V2_PREFIX)
    return app

"""Answers 200 with null for a product that does not exist, instead of 404."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    price_cents: int
    currency: str = "EUR"
    stock: int = 0
    tags: tuple[str, ...] = field(default=())


def create_app(products: Iterable[Product] = ()) -> FastAPI:
    """The catalog API, serving ``products``: a test sets up the provider's state by choosing
    them.

    - ``GET /products/{product_id}``: 200 with the product as JSON: ``id``, ``name``,
      ``price_cents`` (an integer), ``currency``, ``in_stock`` (a boolean: ``stock > 0``) and
      ``tags``.
    - A product that does not exist: 404, ``application/problem+json``.

    The storefront (``storefront.py``) is this API's only consumer, so the catalog team may
    change anything the storefront does not rely on: add fields, drop the ones it does not
    read, reorder them, reword errors. A correct catalog is any catalog that keeps the
    storefront working; the storefront's contract says what that takes.
    """
    by_id = {product.id: product for product in products}
    app = FastAPI(title="catalog")

    @app.get("/products/{product_id}")
    def get_product(product_id: int) -> JSONResponse:
        product = by_id.get(product_id)
        if product is None:
            return JSONResponse(None)
        return JSONResponse(
            {
                "id": product.id,
                "name": product.name,
                "price_cents": product.price_cents,
                "currency": product.currency,
                "in_stock": product.stock > 0,
                "tags": list(product.tags),
            }
        )

    return app

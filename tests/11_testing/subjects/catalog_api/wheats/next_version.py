"""A correct next version of the catalog: new fields, no id or tags, its own error wording."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    price_cents: int
    currency: str = "EUR"
    stock: int = 0
    tags: tuple[str, ...] = field(default=())


def create_app(products: Iterable[Product] = ()) -> FastAPI:
    catalog = {product.id: product for product in products}
    app = FastAPI(title="catalog v2")

    @app.get("/products/{product_id}")
    def get_product(product_id: int) -> JSONResponse:
        if product_id not in catalog:
            raise HTTPException(404, "unknown product")
        product = catalog[product_id]
        return JSONResponse(
            {
                "sku": f"P-{product.id:06d}",
                "in_stock": bool(product.stock),
                "stock_level": "high" if product.stock > 10 else "low",
                "currency": product.currency,
                "price_cents": product.price_cents,
                "name": product.name,
                "description": "",
            }
        )

    return app

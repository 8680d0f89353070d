"""The storefront's client of the catalog API: the consumer in exercise 11.7's contract.

It is not under test: read it to see what it needs from the catalog, which is what the
storefront's contract with the catalog must say.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class ProductCard:
    """What the storefront shows for a product."""

    title: str
    price: str  # "12.50 EUR"
    available: bool


class CatalogClient:
    """Reads products from the catalog API through ``http`` (an ``httpx.Client`` whose
    ``base_url`` is the catalog's)."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def card(self, product_id: int) -> ProductCard | None:
        """The card of a product, or ``None`` when the catalog has no such product."""
        response = self.http.get(f"/products/{product_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        product = response.json()
        units, cents = divmod(product["price_cents"], 100)
        return ProductCard(
            title=product["name"],
            price=f"{units}.{cents:02d} {product['currency']}",
            available=product["in_stock"],
        )

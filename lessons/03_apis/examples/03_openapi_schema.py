"""FastAPI writes the OpenAPI document from your routes and models: print the parts that matter.

Run: uv run python lessons/03_apis/examples/03_openapi_schema.py

The same document feeds /docs (Swagger UI), /redoc, client generators and contract tests.
Nothing is served here: ``app.openapi()`` builds the schema in-process.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, status
from pydantic import BaseModel, Field


class ProductIn(BaseModel):
    sku: str = Field(pattern=r"^[A-Z]{3}-\d{4}$", examples=["MUG-0001"])
    name: str = Field(min_length=1, max_length=120)
    price: Decimal = Field(gt=0, decimal_places=2)


class ProductOut(ProductIn):
    id: int


def create_app() -> FastAPI:
    app = FastAPI(title="Catalog", version="1.2.0", description="Products of the shop.")
    router = APIRouter(prefix="/products", tags=["products"])

    @router.get("")
    def list_products(
        limit: Annotated[int, Query(ge=1, le=100, description="page size")] = 20,
    ) -> list[ProductOut]:
        """List products, cheapest first."""
        return []

    @router.post("", status_code=status.HTTP_201_CREATED, summary="Create a product")
    def create_product(product: ProductIn) -> ProductOut:
        return ProductOut(id=1, **product.model_dump())

    app.include_router(router, prefix="/api/v1")
    return app


def main() -> None:
    schema = create_app().openapi()
    print("openapi", schema["openapi"], "-", schema["info"]["title"], schema["info"]["version"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = ", ".join(sorted(operation["responses"]))
            print(f"  {method.upper():5} {path:20} {operation['summary']!r:22} -> {codes}")
    limit = schema["paths"]["/api/v1/products"]["get"]["parameters"][0]
    print("query parameter 'limit':", json.dumps(limit["schema"]))
    print("components:", sorted(schema["components"]["schemas"]))
    print("ProductIn schema:")
    print(json.dumps(schema["components"]["schemas"]["ProductIn"], indent=2))


if __name__ == "__main__":
    main()

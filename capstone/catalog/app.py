"""The catalog service (lessons 03 and 04): products over HTTP, cache-aside in Redis.

Reads answer ``X-Cache: hit`` or ``miss``; writes invalidate. Only the gateway calls this service,
and the gateway checks the ``admin`` scope before it forwards a write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import FastAPI, Query, Response

from capstone.catalog.repository import ProductCache, ProductRepository
from capstone.catalog.settings import CatalogSettings
from capstone.common.db import Database
from capstone.common.health import database_check, redis_check
from capstone.common.problems import Problem
from capstone.common.service import create_app, serve_app
from capstone.contracts.catalog import ProductIn, ProductOut, ProductPage, ProductPatch


def build_app(settings: CatalogSettings) -> FastAPI:
    db = Database(settings.database_url)
    # a cache that does not answer within a second is skipped (reads go to the database)
    redis = aioredis.from_url(
        settings.redis_url, decode_responses=True, socket_connect_timeout=1, socket_timeout=1
    )
    products = ProductRepository(db)
    cache = ProductCache(redis, settings.key_prefix, settings.cache_ttl_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.aclose()
        db.close()

    app = create_app(
        "catalog",
        lifespan=lifespan,
        internal_token=settings.internal_token.get_secret_value(),
        checks={"database": database_check(db), "redis": redis_check(redis)},
    )

    @app.get("/products")
    async def list_products(
        response: Response,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> ProductPage:
        key, page = await cache.get_page(limit, offset)
        response.headers["X-Cache"] = "hit" if page else "miss"
        if page is None:
            page = await products.page(limit, offset)
            await cache.put(key, page)
        return page

    @app.get("/products/{product_id}")
    async def get_product(product_id: int, response: Response) -> ProductOut:
        key, product = await cache.get_product(product_id)
        response.headers["X-Cache"] = "hit" if product else "miss"
        if product is None:
            product = await products.get(product_id)
            if product is None:
                raise Problem(404, "Not Found", f"no product {product_id}")
            await cache.put(key, product)
        return product

    @app.post("/products", status_code=201)
    async def create_product(data: ProductIn) -> ProductOut:
        product = await products.create(data)
        await cache.invalidate()
        return product

    @app.patch("/products/{product_id}")
    async def update_product(product_id: int, patch: ProductPatch) -> ProductOut:
        product = await products.update(product_id, patch)
        if product is None:
            raise Problem(404, "Not Found", f"no product {product_id}")
        await cache.invalidate()
        return product

    return app


def serve(settings: CatalogSettings) -> None:
    serve_app(build_app(settings), settings)

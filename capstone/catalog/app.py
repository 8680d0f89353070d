"""The catalog service (lessons 03 and 04): products over HTTP, cache-aside in Redis.

Reads answer ``X-Cache: hit`` or ``miss``; writes invalidate. Only the gateway calls this service,
and the gateway checks the ``admin`` scope before it forwards a write. A product read also says
how long the gateway may keep it in its own memory (``Cache-Control: s-maxage``).
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
from capstone.common.discovery import registration
from capstone.common.health import database_check, redis_check
from capstone.common.problems import Problem
from capstone.common.service import create_app, serve_app
from capstone.contracts.catalog import ProductIn, ProductOut, ProductPage, ProductPatch


def build_app(settings: CatalogSettings) -> FastAPI:
    db = Database(settings.database_url)
    # a cache that does not answer within a second is skipped (reads go to the database)
    redis = aioredis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
    products = ProductRepository(db)
    cache = ProductCache(redis, settings.key_prefix, settings.cache_ttl_seconds)
    seconds = settings.shared_cache_seconds
    shared = f"s-maxage={seconds}" if seconds else "no-store"

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # the gateway finds this instance in the registry while it runs (lesson 06)
        async with registration("catalog", redis, settings):
            yield
        await redis.aclose()
        db.close()

    app = create_app(
        "catalog",
        lifespan=lifespan,
        internal_token=settings.internal_token.get_secret_value(),
        checks={"database": database_check(db), "redis": redis_check(redis)},
    )

    # A hit answers the JSON bytes Redis holds, a miss the JSON it has just cached: both skip
    # FastAPI's validation and encoding of the return value (``response_model`` documents it).
    @app.get("/products", response_model=ProductPage)
    async def list_products(
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        key, raw = await cache.get_page(limit, offset)
        if raw is not None:
            return _json(raw, cache="hit")
        page = await products.page(limit, offset)
        return _json(await cache.put(key, page), cache="miss")

    @app.get("/products/{product_id}", response_model=ProductOut)
    async def get_product(product_id: int) -> Response:
        key, raw = await cache.get_product(product_id)
        if raw is not None:
            return _json(raw, cache="hit", cache_control=shared)
        product = await products.get(product_id)
        if product is None:
            raise Problem(404, "Not Found", f"no product {product_id}")
        return _json(await cache.put(key, product), cache="miss", cache_control=shared)

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


def _json(body: bytes, *, cache: str, cache_control: str | None = None) -> Response:
    headers = {"X-Cache": cache}
    if cache_control:
        headers["Cache-Control"] = cache_control
    return Response(body, media_type="application/json", headers=headers)


def serve(settings: CatalogSettings) -> None:
    serve_app(build_app(settings), settings)

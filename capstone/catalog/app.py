"""The catalog service (lessons 03 and 04): products over HTTP, stored by lesson 04's store.

The routes are glue: lesson 04's ``catalog_store`` (capstone.catalog.repository runs it) reads
through a Redis cache-aside and pages by keyset. Reads answer ``X-Cache: hit`` or ``miss``;
writes invalidate. ``GET /products`` pages with ``limit`` and an opaque ``cursor`` and answers
``{"items": [...], "next_cursor": ...}`` (see capstone.contracts.paging). Only the gateway calls
this service, and the gateway checks the ``admin`` scope before it forwards a write. A product
read also says how long the gateway may keep it in its own memory (``Cache-Control: s-maxage``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI, Response
from pydantic import BaseModel

from capstone.catalog.repository import Catalog
from capstone.catalog.settings import CatalogSettings
from capstone.common.db import Database
from capstone.common.discovery import registration
from capstone.common.health import database_check, redis_check
from capstone.common.service import create_app, serve_app
from capstone.contracts.catalog import ProductIn, ProductOut, ProductPage, ProductPatch
from capstone.contracts.paging import PRODUCT_PAGE_DEFAULT, Cursor, Limit


def build_app(settings: CatalogSettings) -> FastAPI:
    db = Database(settings.database_url)
    # for the registry and the readiness check; the store has a client of its own
    redis = aioredis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
    catalog = Catalog(db, settings.redis_url, settings.key_prefix, settings.cache_ttl_seconds)
    seconds = settings.shared_cache_seconds
    shared = f"s-maxage={seconds}" if seconds else "no-store"

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # the gateway finds this instance in the registry while it runs (lesson 06)
        async with registration("catalog", redis, settings):
            yield
        await redis.aclose()
        catalog.close()
        db.close()

    app = create_app(
        "catalog",
        lifespan=lifespan,
        internal_token=settings.internal_token.get_secret_value(),
        checks={"database": database_check(db), "redis": redis_check(redis)},
    )

    # ``response_model`` documents the answers; the routes encode them once, themselves.
    @app.get("/products", response_model=ProductPage)
    async def list_products(limit: Limit = PRODUCT_PAGE_DEFAULT, cursor: Cursor = None) -> Response:
        page, from_cache = await catalog.page(limit, cursor)
        return _json(page, cache=_hit_or_miss(from_cache))

    @app.get("/products/{product_id}", response_model=ProductOut)
    async def get_product(product_id: int) -> Response:
        product, from_cache = await catalog.get(product_id)
        return _json(product, cache=_hit_or_miss(from_cache), cache_control=shared)

    @app.post("/products", status_code=201)
    async def create_product(data: ProductIn) -> ProductOut:
        return await catalog.create(data)

    @app.patch("/products/{product_id}")
    async def update_product(product_id: int, patch: ProductPatch) -> ProductOut:
        return await catalog.update(product_id, patch)

    return app


def _hit_or_miss(from_cache: bool) -> str:
    return "hit" if from_cache else "miss"


def _json(body: BaseModel, *, cache: str, cache_control: str | None = None) -> Response:
    headers = {"X-Cache": cache}
    if cache_control:
        headers["Cache-Control"] = cache_control
    return Response(body.model_dump_json(), media_type="application/json", headers=headers)


def serve(settings: CatalogSettings) -> None:
    serve_app(build_app(settings), settings)

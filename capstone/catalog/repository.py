"""Products in PostgreSQL, read through a Redis cache (lesson 04: repository and cache-aside).

Cache-aside: read the cache; on a miss read the database and fill the cache with a TTL. A write
bumps a *generation* number that is part of every cache key, so every cached product and page
becomes unreachable at once, without scanning for them and without a race (see ProductCache).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from capstone.catalog.models import Product
from capstone.common.db import Database
from capstone.common.logging import get_logger
from capstone.common.problems import Problem
from capstone.contracts.catalog import ProductIn, ProductOut, ProductPage, ProductPatch

log = get_logger("capstone.catalog.cache")


class ProductRepository:
    """Products in PostgreSQL; every method is one transaction on a worker thread."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, data: ProductIn) -> ProductOut:
        def create(session: Any) -> ProductOut:
            product = Product(**data.model_dump())
            session.add(product)
            session.flush()  # assigns the id and server defaults; IntegrityError on a dup sku
            session.refresh(product)
            return ProductOut.model_validate(product)

        try:
            return await self.db.run(create)
        except IntegrityError as error:
            raise Problem(409, "Conflict", f"a product with sku {data.sku!r} exists") from error

    async def get(self, product_id: int) -> ProductOut | None:
        def get(session: Any) -> ProductOut | None:
            product = session.get(Product, product_id)
            return ProductOut.model_validate(product) if product else None

        return await self.db.run(get)

    async def page(self, limit: int, offset: int) -> ProductPage:
        def page(session: Any) -> ProductPage:
            rows = session.scalars(select(Product).order_by(Product.id).limit(limit).offset(offset))
            return ProductPage(
                items=[ProductOut.model_validate(p) for p in rows], limit=limit, offset=offset
            )

        return await self.db.run(page)

    async def update(self, product_id: int, patch: ProductPatch) -> ProductOut | None:
        changes: dict[str, Any] = patch.model_dump(exclude_none=True)

        def change(session: Any) -> ProductOut | None:
            product = session.scalar(
                update(Product)
                .where(Product.id == product_id)
                .values(**changes, updated_at=func.now())
                .returning(Product)
            )
            return ProductOut.model_validate(product) if product else None

        return await self.db.run(change)


class ProductCache:
    """JSON documents in Redis under ``<prefix>:catalog:g<generation>:...``, each with a TTL.

    A reader reads the generation *before* it queries the database and fills the key it built
    from it. A write commits, then bumps the generation. So a document read before a write is
    stored under the old generation, where nobody looks any more: no stale product or page
    survives a write (a plain ``DELETE`` of the key would race with such a reader).

    Redis is an optimisation, never a dependency of a read: when it does not answer, a lookup is
    a miss (the key is None, and ``put`` of a None key does nothing), so reads go to the
    database. A write whose invalidation fails remembers it: until a bump succeeds, every
    lookup first retries it and, failing, bypasses the cache. So what Redis held before it went
    away is never served after it comes back."""

    # One round trip per lookup: the generation and the document it names, read together by a
    # script that Redis runs at once. (It builds the document's key itself, which a Redis Cluster
    # would refuse; the shop uses one Redis.) A missing document is false in Lua, None here.
    LOOKUP = """
    local generation = redis.call('GET', KEYS[1]) or '0'
    local key = ARGV[1] .. ':g' .. generation .. ':' .. ARGV[2]
    return {key, redis.call('GET', key)}
    """

    def __init__(self, redis: Any, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:catalog"
        self.generation_key = f"{self.prefix}:generation"
        self.ttl = ttl_seconds
        self.invalidation_pending = False
        self._lookup = redis.register_script(self.LOOKUP)

    async def get_product(self, product_id: int) -> tuple[str | None, bytes | None]:
        """The product's key (fill *that* key on a miss) and the cached JSON, if any."""
        return await self._find(f"product:{product_id}")

    async def get_page(self, limit: int, offset: int) -> tuple[str | None, bytes | None]:
        """The page's key (fill *that* key on a miss) and the cached JSON, if any."""
        return await self._find(f"products:{limit}:{offset}")

    async def _find(self, name: str) -> tuple[str | None, bytes | None]:
        """The cached JSON is returned as Redis holds it: it was valid when it was stored, and
        parsing it to write it out again would cost more than the rest of a hit."""
        try:
            if self.invalidation_pending:
                await self.redis.incr(self.generation_key)
                self.invalidation_pending = False
            key, raw = await self._lookup(keys=[self.generation_key], args=[self.prefix, name])
        except RedisError as error:
            log.warning("cache unavailable, reading the database", error=repr(error))
            return None, None
        return _text(key), _bytes(raw)

    async def put(self, key: str | None, document: BaseModel) -> bytes:
        """Caches the document under ``key`` (when there is one); returns its JSON."""
        raw = document.model_dump_json().encode()
        if key is None:
            return raw
        try:
            await self.redis.set(key, raw, ex=self.ttl)
        except RedisError as error:
            log.warning("cache unavailable, not filled", error=repr(error))
        return raw

    async def invalidate(self) -> None:
        """After a committed write: every cached product and page becomes unreachable."""
        self.invalidation_pending = True
        try:
            await self.redis.incr(self.generation_key)
        except RedisError as error:
            log.warning("cache unavailable, invalidation postponed", error=repr(error))
            return
        self.invalidation_pending = False


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bytes(value: str | bytes | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value

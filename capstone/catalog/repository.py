"""Products in PostgreSQL, read through a Redis cache (lesson 04: repository and cache-aside).

Cache-aside: read the cache; on a miss read the database and fill the cache with a TTL. A write
deletes the product's key and bumps a *generation* number that is part of every list key, so all
cached pages become unreachable at once without scanning for them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from capstone.catalog.models import Product, ProductIn, ProductOut, ProductPage, ProductPatch
from capstone.common.db import Database
from capstone.common.problems import Problem


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
    """JSON documents in Redis under ``<prefix>:catalog:...``, each with a TTL."""

    def __init__(self, redis: Any, prefix: str, ttl_seconds: int) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:catalog"
        self.ttl = ttl_seconds

    def _product_key(self, product_id: int) -> str:
        return f"{self.prefix}:product:{product_id}"

    async def _page_key(self, limit: int, offset: int) -> str:
        generation = await self.redis.get(f"{self.prefix}:generation") or "0"
        return f"{self.prefix}:products:g{generation}:{limit}:{offset}"

    async def get_product(self, product_id: int) -> ProductOut | None:
        raw = await self.redis.get(self._product_key(product_id))
        return ProductOut.model_validate_json(raw) if raw else None

    async def put_product(self, product: ProductOut) -> None:
        await self.redis.set(self._product_key(product.id), product.model_dump_json(), ex=self.ttl)

    async def get_page(self, limit: int, offset: int) -> tuple[str, ProductPage | None]:
        """The page's key (fill *that* key on a miss) and the cached page, if any.

        Filling the key read before the database query means a page read before a write lands
        under the old generation, where nobody looks: no stale page survives a write."""
        key = await self._page_key(limit, offset)
        raw = await self.redis.get(key)
        return key, (ProductPage.model_validate_json(raw) if raw else None)

    async def put_page(self, key: str, page: ProductPage) -> None:
        await self.redis.set(key, page.model_dump_json(), ex=self.ttl)

    async def invalidate(self, product_id: int | None = None) -> None:
        """After a write: drop the product's entry and make every cached page stale."""
        async with self.redis.pipeline(transaction=True) as pipe:
            if product_id is not None:
                pipe.delete(self._product_key(product_id))
            pipe.incr(f"{self.prefix}:generation")
            await pipe.execute()

"""The gateway (lessons 03, 05, 08, 12): the shop's only public API, under ``/api/v1``.

It owns users and credentials, checks tokens and scopes, rate-limits logins and order placing,
and forwards everything else to the internal services with the caller's id and request id.
Stock writes go gateway -> orders -> inventory (gRPC): orders is inventory's only client.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import Depends, FastAPI, Header, Query, Response, Security
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from capstone.common.db import Database
from capstone.common.health import database_check, redis_check
from capstone.common.problems import Problem
from capstone.common.service import create_app, serve_app
from capstone.contracts.catalog import ProductIn, ProductPatch
from capstone.contracts.orders import OrderIn, StockIn
from capstone.contracts.paging import PAGE_DEFAULT, Cursor, Limit
from capstone.gateway import security
from capstone.gateway.downstream import Downstream
from capstone.gateway.models import RegisterIn, TokenOut, User, UserOut
from capstone.gateway.ratelimit import RateLimiter
from capstone.gateway.settings import GatewaySettings

API = "/api/v1"
# no `from __future__ import annotations` here: the route signatures use Annotated aliases
# made inside build_app, which FastAPI can only see when annotations are evaluated eagerly


def build_app(settings: GatewaySettings) -> FastAPI:
    db = Database(settings.database_url)
    redis = aioredis.from_url(settings.redis_url)
    limiter = RateLimiter(redis, settings.key_prefix, settings.rate_limit_per_minute)
    timeout = settings.downstream_timeout_seconds
    catalog = Downstream("catalog", settings.catalog_url, timeout)
    orders = Downstream("orders", settings.orders_url, timeout)
    notifier = Downstream("notifier", settings.notifier_url, timeout)
    authenticate = security.make_authenticator(settings)
    Reader = Annotated[security.Principal, Security(authenticate, scopes=["orders:read"])]
    Writer = Annotated[security.Principal, Security(authenticate, scopes=["orders:write"])]
    Admin = Annotated[security.Principal, Security(authenticate, scopes=["admin"])]
    Anyone = Annotated[security.Principal, Security(authenticate)]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        for client in (catalog, orders, notifier):
            await client.close()
        await redis.aclose()
        db.close()

    app = create_app(
        "gateway",
        lifespan=lifespan,
        checks={"database": database_check(db), "redis": redis_check(redis)},
        description="The shop's public API. Log in with the OAuth2 password flow (Authorize).",
    )

    # -- users (lesson 08) ---------------------------------------------------------------

    @app.post(f"{API}/auth/register", status_code=201, tags=["auth"])
    async def register(data: RegisterIn) -> UserOut:
        user = User(
            id=str(uuid.uuid4()),
            email=data.email.lower(),
            password_hash=await security.hash_password(data.password),
            is_admin=settings.is_admin_email(data.email),
        )

        def add(session: Any) -> None:
            session.add(user)

        try:
            await db.run(add)
        except IntegrityError as error:
            raise Problem(409, "Conflict", "this email is already registered") from error
        return UserOut(id=user.id, email=user.email, is_admin=user.is_admin)

    @app.post(f"{API}/auth/token", tags=["auth"])
    async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
        email = form.username.lower()
        await limiter.hit("login", email)
        found = await db.run(
            lambda s: s.scalars(select(User).where(User.email == email)).one_or_none()
        )
        ok = await security.verify_password(found.password_hash if found else None, form.password)
        if found is None or not ok:
            raise security.unauthorized("incorrect email or password")
        scopes = security.grant(form.scopes, found.is_admin)
        token = security.issue_token(settings, found.id, scopes)
        return TokenOut(
            access_token=token, expires_in=settings.jwt_ttl_seconds, scope=" ".join(scopes)
        )

    @app.get(f"{API}/users/me", tags=["auth"])
    async def me(who: Anyone) -> UserOut:
        found = await db.run(lambda s: s.get(User, who.user_id))
        if found is None:
            raise security.unauthorized("this token's user no longer exists")
        return UserOut(id=found.id, email=found.email, is_admin=found.is_admin)

    # -- products (lessons 03, 04) ---------------------------------------------------------

    @app.get(f"{API}/products", tags=["products"])
    async def list_products(
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        return await catalog.call("GET", "/products", params={"limit": limit, "offset": offset})

    @app.get(f"{API}/products/{{product_id}}", tags=["products"])
    async def get_product(product_id: int) -> Response:
        return await catalog.call("GET", f"/products/{product_id}")

    @app.post(f"{API}/products", status_code=201, tags=["products"])
    async def create_product(data: ProductIn, who: Admin) -> Response:
        return await catalog.call("POST", "/products", json=data.model_dump(mode="json"))

    @app.patch(f"{API}/products/{{product_id}}", tags=["products"])
    async def update_product(product_id: int, patch: ProductPatch, who: Admin) -> Response:
        body = patch.model_dump(mode="json", exclude_none=True)
        return await catalog.call("PATCH", f"/products/{product_id}", json=body)

    @app.put(f"{API}/products/{{product_id}}/stock", tags=["products"])
    async def set_stock(product_id: int, stock: StockIn, who: Admin) -> Response:
        return await orders.call("PUT", f"/stock/{product_id}", json=stock.model_dump())

    @app.get(f"{API}/products/{{product_id}}/stock", tags=["products"])
    async def get_stock(product_id: int) -> Response:
        return await orders.call("GET", f"/stock/{product_id}")

    # -- orders and notifications (lessons 07, 12) ----------------------------------------

    @app.post(f"{API}/orders", status_code=201, tags=["orders"])
    async def place_order(
        order: OrderIn,
        who: Writer,
        idempotency_key: Annotated[str, Header(min_length=1, max_length=200)],
    ) -> Response:
        await limiter.hit("orders", who.user_id)
        return await orders.call(
            "POST",
            "/orders",
            user_id=who.user_id,
            json=order.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key},
        )

    @app.get(f"{API}/orders", tags=["orders"])
    async def list_orders(
        who: Reader, limit: Limit = PAGE_DEFAULT, cursor: Cursor = None
    ) -> Response:
        page = {"limit": limit, "cursor": cursor} if cursor else {"limit": limit}
        return await orders.call("GET", "/orders", user_id=who.user_id, params=page)

    @app.get(f"{API}/orders/{{order_id}}", tags=["orders"])
    async def get_order(order_id: str, who: Reader) -> Response:
        return await orders.call("GET", f"/orders/{order_id}", user_id=who.user_id)

    @app.get(f"{API}/notifications", tags=["orders"])
    async def list_notifications(
        who: Reader, limit: Limit = PAGE_DEFAULT, cursor: Cursor = None
    ) -> Response:
        page = {"limit": limit, "cursor": cursor} if cursor else {"limit": limit}
        return await notifier.call("GET", "/notifications", user_id=who.user_id, params=page)

    return app


def serve(settings: GatewaySettings) -> None:
    serve_app(build_app(settings), settings)

"""The gateway (lessons 03, 05, 06, 08, 12): the shop's only public API, under ``/api/v1``.

It owns users and credentials, checks tokens and scopes, rate-limits logins and order placing,
and forwards everything else to the internal services with the caller's id and request id,
balanced over the instances each service registered (lesson 06, capstone.common.discovery).
Stock writes go gateway -> orders -> inventory (gRPC): orders is inventory's only client.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import quote

import redis.asyncio as aioredis
from fastapi import FastAPI, Form, Header, Path, Request, Response, Security
from fastapi.responses import HTMLResponse
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from capstone.common.db import Database
from capstone.common.discovery import discovery_client
from capstone.common.health import database_check, redis_check
from capstone.common.problems import Problem, error_responses
from capstone.common.service import create_app, serve_app
from capstone.common.validation import ASCII_TOKEN, MAX_ID, SafeStr
from capstone.contracts.catalog import ProductIn, ProductOut, ProductPage, ProductPatch
from capstone.contracts.notifications import NotificationPage
from capstone.contracts.orders import OrderIn, OrderOut, OrderPage, StockIn, StockOut
from capstone.contracts.paging import (
    PAGE_DEFAULT,
    PRODUCT_PAGE_DEFAULT,
    Cursor,
    Limit,
    page_params,
)
from capstone.gateway import security
from capstone.gateway.cache import ResponseCache
from capstone.gateway.docs import DOCS_HTML
from capstone.gateway.downstream import Discovered, Downstream
from capstone.gateway.models import RegisterIn, TokenOut, User, UserOut
from capstone.gateway.ratelimit import RateLimits
from capstone.gateway.settings import GatewaySettings

API = "/api/v1"
ProductId = Annotated[int, Path(ge=1, le=MAX_ID)]
# an order id goes into an internal URL: no NUL, bounded, and escaped where it is used
OrderId = Annotated[SafeStr, Path(min_length=1, max_length=64)]
IdempotencyKey = Annotated[str, Header(min_length=1, max_length=200, pattern=ASCII_TOKEN)]
# every route may meet a broken request, a body too large or too slow, a dependency that is down
COMMON = (400, 408, 413, 422, 500, 502, 503, 504)
PUBLIC = error_responses(*COMMON)
PUBLIC_ITEM = error_responses(404, *COMMON)
AUTHED = error_responses(401, 403, 429, *COMMON)
AUTHED_ITEM = error_responses(401, 403, 404, 429, *COMMON)


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, role=user.role, is_admin=user.is_admin)  # type: ignore[arg-type]


# no `from __future__ import annotations` here: the route signatures use Annotated aliases
# made inside build_app, which FastAPI can only see when annotations are evaluated eagerly


def redis_pool(settings: GatewaySettings) -> aioredis.Redis:
    """A bounded pool that makes a request *wait* (up to a timeout) for a free connection
    instead of failing at once; a Redis that is down fails fast (then a 503)."""
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_pool_size,
        timeout=settings.redis_pool_timeout_seconds,
        socket_connect_timeout=settings.redis_pool_timeout_seconds,
        socket_timeout=settings.redis_pool_timeout_seconds,
    )
    return aioredis.Redis(connection_pool=pool)


# every authenticated request runs it: built once, executed with the user's id
ROLE_OF = select(User.role).where(User.id == bindparam("the_user"))


def build_app(settings: GatewaySettings) -> FastAPI:
    db = Database(settings.database_url)
    redis = redis_pool(settings)
    limits = RateLimits(redis, settings)
    timeout = settings.downstream_timeout_seconds
    internal = settings.internal_token.get_secret_value()
    discovery = discovery_client(
        redis,
        settings,
        cache_seconds=settings.discovery_cache_seconds,
        failure_threshold=settings.discovery_failure_threshold,
        cooldown_seconds=settings.discovery_cooldown_seconds,
    )

    def downstream(name: str, url: str) -> Downstream:
        # a URL is one address; none: the instances that registered (lesson 06)
        return Downstream(name, url or Discovered(discovery, name), timeout, internal)

    catalog = downstream("catalog", settings.catalog_url)
    orders = downstream("orders", settings.orders_url)
    notifier = downstream("notifier", settings.notifier_url)
    product_reads = ResponseCache()  # product reads, kept as long as the catalog allows

    async def role_of(user_id: str) -> str | None:
        # asked on every authenticated request: one statement, so one round trip (no BEGIN/COMMIT)
        return await db.run_alone(lambda c: c.scalar(ROLE_OF, {"the_user": user_id}))

    tokens = security.token_authority(settings, role_of)
    authenticate = security.make_authenticator(tokens)
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
        await redis.connection_pool.disconnect()  # a pool given to Redis() is ours to close
        db.close()

    app = create_app(
        "gateway",
        lifespan=lifespan,
        checks={"database": database_check(db), "redis": redis_check(redis)},
        internal_token=internal,
        public=True,
        docs_url=None,  # the page below, which needs no CDN
        redoc_url=None,
        description="The shop's public API. Log in with the OAuth2 password flow.",
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    def client_address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    # -- users (lesson 08) ---------------------------------------------------------------

    @app.post(
        f"{API}/auth/register",
        status_code=201,
        tags=["auth"],
        responses=error_responses(409, 429, *COMMON),
    )
    async def register(data: RegisterIn, request: Request) -> UserOut:
        await limits.register(client_address(request))
        user = User(
            id=str(uuid.uuid4()),
            email=data.email.lower(),
            password_hash=await security.passwords.hash(data.password),
            role="user",  # only an operator makes an admin: `journey capstone admin EMAIL`
        )

        def add(session: Any) -> None:
            session.add(user)

        try:
            await db.run(add)
        except IntegrityError as error:
            raise Problem(409, "Conflict", "this email is already registered") from error
        return user_out(user)

    @app.post(security.TOKEN_URL, tags=["auth"], responses=error_responses(401, 429, *COMMON))
    async def login(
        request: Request,
        username: Annotated[SafeStr, Form(min_length=1, max_length=320)],
        password: Annotated[SafeStr, Form(max_length=128)],
        scope: Annotated[SafeStr, Form(max_length=200)] = "",
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    ) -> TokenOut:
        """The OAuth2 password flow. Limited per client address, per account from that
        address, and per account from everywhere (a higher limit): a client that guesses can
        lock itself out, not the account's owner elsewhere."""
        email = username.lower()
        client = client_address(request)
        await limits.login(email, client)
        found = await db.run(
            lambda s: s.scalars(select(User).where(User.email == email)).one_or_none()
        )
        ok = await security.passwords.verify(found.password_hash if found else None, password)
        if found is None or not ok:
            raise security.unauthorized("incorrect email or password")
        issued = tokens.issue(security.account(found.id, found.role), scope.split())
        return TokenOut.model_validate(issued, from_attributes=True)

    @app.get(f"{API}/users/me", tags=["auth"], responses=AUTHED)
    async def me(who: Anyone) -> UserOut:
        found = await db.run(lambda s: s.get(User, who.user_id))
        if found is None:
            raise security.unauthorized("this token's user no longer exists")
        return user_out(found)

    # -- products (lessons 03, 04) ---------------------------------------------------------
    # The routes answer the service's own response; response_model documents it.

    @app.get(f"{API}/products", tags=["products"], response_model=ProductPage, responses=PUBLIC)
    async def list_products(limit: Limit = PRODUCT_PAGE_DEFAULT, cursor: Cursor = None) -> Response:
        """Keyset pages: pass the answer's ``next_cursor`` as ``cursor`` for the next one."""
        return await catalog.call("GET", "/products", params=page_params(limit, cursor))

    @app.get(
        f"{API}/products/{{product_id}}",
        tags=["products"],
        response_model=ProductOut,
        responses=PUBLIC_ITEM,
    )
    async def get_product(product_id: ProductId) -> Response:
        # no second hop for a product read a moment ago: the catalog says how long it may be kept
        path = f"/products/{product_id}"
        return await product_reads.read_through(path, lambda: catalog.call("GET", path))

    @app.post(
        f"{API}/products",
        status_code=201,
        tags=["products"],
        response_model=ProductOut,
        responses=error_responses(401, 403, 409, *COMMON),
    )
    async def create_product(data: ProductIn, who: Admin) -> Response:
        try:
            return await catalog.call("POST", "/products", json=data.model_dump(mode="json"))
        finally:
            product_reads.clear()  # even after an error: the write may have happened

    @app.patch(
        f"{API}/products/{{product_id}}",
        tags=["products"],
        response_model=ProductOut,
        responses=AUTHED_ITEM,
    )
    async def update_product(product_id: ProductId, patch: ProductPatch, who: Admin) -> Response:
        body = patch.model_dump(mode="json", exclude_none=True)
        try:
            return await catalog.call("PATCH", f"/products/{product_id}", json=body)
        finally:
            product_reads.clear()

    @app.put(
        f"{API}/products/{{product_id}}/stock",
        tags=["products"],
        response_model=StockOut,
        responses=AUTHED,
    )
    async def set_stock(product_id: ProductId, stock: StockIn, who: Admin) -> Response:
        return await orders.call("PUT", f"/stock/{product_id}", json=stock.model_dump())

    @app.get(
        f"{API}/products/{{product_id}}/stock",
        tags=["products"],
        response_model=StockOut,
        responses=PUBLIC,
    )
    async def get_stock(product_id: ProductId) -> Response:
        return await orders.call("GET", f"/stock/{product_id}")

    # -- orders and notifications (lessons 07, 12) ----------------------------------------

    @app.post(
        f"{API}/orders",
        status_code=201,
        tags=["orders"],
        response_model=OrderOut,
        responses=error_responses(401, 403, 409, 429, *COMMON),
    )
    async def place_order(order: OrderIn, who: Writer, idempotency_key: IdempotencyKey) -> Response:
        await limits.order(who.user_id)
        return await orders.call(
            "POST",
            "/orders",
            user_id=who.user_id,
            json=order.model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key},
        )

    @app.get(f"{API}/orders", tags=["orders"], response_model=OrderPage, responses=AUTHED)
    async def list_orders(
        who: Reader, limit: Limit = PAGE_DEFAULT, cursor: Cursor = None
    ) -> Response:
        page = page_params(limit, cursor)
        return await orders.call("GET", "/orders", user_id=who.user_id, params=page)

    @app.get(
        f"{API}/orders/{{order_id}}",
        tags=["orders"],
        response_model=OrderOut,
        responses=AUTHED_ITEM,
    )
    async def get_order(order_id: OrderId, who: Reader) -> Response:
        # escaped: a '?', '#' or '/' in the id must not change which internal URL is called
        return await orders.call("GET", f"/orders/{quote(order_id, safe='')}", user_id=who.user_id)

    @app.get(
        f"{API}/notifications",
        tags=["orders"],
        response_model=NotificationPage,
        responses=AUTHED,
    )
    async def list_notifications(
        who: Reader, limit: Limit = PAGE_DEFAULT, cursor: Cursor = None
    ) -> Response:
        page = page_params(limit, cursor)
        return await notifier.call("GET", "/notifications", user_id=who.user_id, params=page)

    return app


def serve(settings: GatewaySettings) -> None:
    serve_app(build_app(settings), settings)

"""Readiness really checks each service's own dependencies: an app built in this process with one
dependency pointed at a closed port answers 503 and names that dependency, and only that one."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _closed_port() -> int:
    from capstone.runner import free_port

    return free_port()  # bound, then released: nothing listens there


def _app(shop: Any, service: str, broken: str) -> Any:
    """The service's app with the shop's real dependencies, except ``broken``."""
    config = shop.system.config
    settings: dict[str, Any] = {
        "database_url": config.database_url(service),
        "redis_url": config.redis_url,
        "key_prefix": shop.prefix,
        "events_stream": config.events_stream,
        "inventory_target": config.inventory_target,
        "jwt_secret": config.jwt_secret,
        "internal_token": config.internal_token,
    }
    port = _closed_port()
    if broken == "database":
        settings["database_url"] = f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere"
    elif broken == "redis":
        settings["redis_url"] = f"redis://127.0.0.1:{port}/0"
    if service == "inventory":
        from capstone.common.db import Database
        from capstone.inventory.server import side_app

        return side_app(Database(settings["database_url"]))
    if service == "catalog":
        from capstone.catalog.app import build_app as build_catalog
        from capstone.catalog.settings import CatalogSettings

        return build_catalog(CatalogSettings(**settings))
    if service == "gateway":
        from capstone.gateway.app import build_app as build_gateway
        from capstone.gateway.settings import GatewaySettings

        return build_gateway(GatewaySettings(**settings))
    if service == "orders":
        from capstone.orders.app import build_app as build_orders
        from capstone.orders.settings import OrdersSettings

        return build_orders(OrdersSettings(**settings))
    from capstone.notifier.app import build_app as build_notifier
    from capstone.notifier.settings import NotifierSettings

    return build_notifier(NotifierSettings(**settings))


@pytest.mark.parametrize(
    ("service", "broken"),
    [
        ("gateway", "database"),
        ("catalog", "redis"),
        ("orders", "database"),  # a broken database also keeps the relay from publishing
        ("notifier", "redis"),
        ("inventory", "database"),
    ],
)
def test_ready_is_503_naming_the_dependency_that_does_not_answer(shop, service, broken):
    from fastapi.testclient import TestClient

    with TestClient(_app(shop, service, broken)) as client:
        assert client.get("/health/live").status_code == 200, "live only says the process runs"
        # the gateway names what fails only to insiders (the internal services to anyone)
        insider = {"X-Internal-Token": shop.system.config.internal_token}
        ready = client.get("/health/ready", headers=insider)
    assert ready.status_code == 503, f"{service} with its {broken} away is not ready"
    failing = ready.json()["failing"]
    assert set(failing) == {broken}, f"{service} names exactly what fails: {failing}"

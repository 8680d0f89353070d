"""The contracts module: the gateway loads no code of the services it calls, the committed gRPC
code is what the proto makes, and each service's migrations build exactly its own models."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from journey.pytest_plugin import require_service

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("catalog", "orders", "inventory", "notifier", "gateway")
PEERS = ("capstone.catalog", "capstone.orders", "capstone.inventory", "capstone.notifier")


def test_the_gateway_loads_no_module_of_another_service():
    probe = (
        "import json, sys\n"
        "import capstone.gateway.__main__, capstone.gateway.app\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('capstone.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert "capstone.gateway.app" in loaded
    assert "capstone.contracts.orders" in loaded, "the gateway's order schemas are the contract"
    leaked = [m for m in loaded if m.startswith(PEERS)]
    assert leaked == [], f"the gateway imports other services' code: {leaked}"


def test_the_product_and_order_bodies_are_lesson_03s_piece():
    """The wire models live once, in exercise 03.7: the contracts re-export them, they do not
    copy them (the glue keeps only the pages and the stock bodies)."""
    from capstone.common import validation
    from capstone.contracts import catalog, orders
    from capstone.pieces import piece

    wire = piece("gateway_models")
    for name in ("ProductIn", "ProductPatch", "ProductOut"):
        assert getattr(catalog, name) is getattr(wire, name), name
    for name in ("OrderItem", "OrderIn", "OrderOut"):
        assert getattr(orders, name) is getattr(wire, name), name
    assert validation.SafeStr is wire.SafeStr
    assert validation.MAX_ID == wire.MAX_ID
    assert catalog.ProductPage.model_fields["items"].annotation == list[wire.ProductOut]


def test_no_service_imports_another_service():
    for service in SERVICES:
        others = [f"capstone.{peer}" for peer in SERVICES if peer != service]
        for path in (ROOT / "capstone" / service).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            found = [name for name in others if f"{name}." in text or f"{name} " in text]
            assert found == [], f"{path.relative_to(ROOT)} imports {found}: use capstone.contracts"


def test_committed_grpc_code_is_what_the_proto_makes(tmp_path):
    from capstone.contracts.generate import GENERATED, HERE, generate

    generate(tmp_path)
    for name in GENERATED:
        assert filecmp.cmp(tmp_path / name, HERE / name, shallow=False), (
            f"{name} is stale: run `uv run python -m capstone.contracts.generate`"
        )


@pytest.mark.postgres
@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_exactly_the_service_models(service):
    """Alembic's autogenerate, run against a freshly migrated database, proposes nothing."""
    import importlib

    import psycopg
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from psycopg import sql
    from sqlalchemy import create_engine

    from capstone.common.db import migrate
    from capstone.runner import Config

    postgres_url = require_service("postgres")
    prefix = f"shoptest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    config = Config(postgres_url=postgres_url, db_prefix=prefix)
    name = config.database_name(service)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    engine = create_engine(config.database_url(service))
    try:
        migrate(ROOT / "capstone" / service / "migrations", config.database_url(service))
        metadata = importlib.import_module(f"capstone.{service}.models").Base.metadata
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == [], f"{service}: models and migrations disagree: {differences}"
    finally:
        engine.dispose()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

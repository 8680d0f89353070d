"""The inventory gRPC server (lesson 06), with the standard gRPC health service and an HTTP side
port for /metrics and /health (lesson 09).

Uvicorn serves the side port and owns SIGTERM: when it returns, the gRPC server stops with a
grace period, so in-flight reservations finish (lesson 12).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

import grpc
from fastapi import FastAPI
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import Counter, Histogram

from capstone.common.db import Database
from capstone.common.health import database_check, run_checks
from capstone.common.logging import get_logger, request_scope
from capstone.common.service import create_app, run_loop, server_for, stop_on_signals
from capstone.common.tracing import grpc_server_interceptors
from capstone.contracts import inventory_pb2 as pb
from capstone.contracts import inventory_pb2_grpc as pb_grpc
from capstone.inventory import stock
from capstone.inventory.settings import InventorySettings

SERVICE_NAME = "shop.inventory.v1.Inventory"
RPCS = Counter("grpc_server_handled_total", "gRPC calls handled", ["method", "code"])
RPC_SECONDS = Histogram("grpc_server_handling_seconds", "gRPC call duration", ["method"])
log = get_logger("capstone.inventory")


class InventoryServicer(pb_grpc.InventoryServicer):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def SetStock(
        self, request: pb.SetStockRequest, context: grpc.aio.ServicerContext
    ) -> pb.StockLevel:
        with _observe("SetStock", context):
            if request.quantity < 0:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "quantity must be >= 0")
            product_id, wanted = request.product_id, request.quantity
            quantity = await self.db.run_alone(lambda s: stock.set_stock(s, product_id, wanted))
            log.info("stock set", product_id=request.product_id, quantity=quantity)
            return pb.StockLevel(product_id=request.product_id, quantity=quantity)

    async def GetStock(
        self, request: pb.GetStockRequest, context: grpc.aio.ServicerContext
    ) -> pb.StockLevel:
        with _observe("GetStock", context):
            product_id = request.product_id
            quantity = await self.db.run_alone(lambda s: stock.get_stock(s, product_id))
            return pb.StockLevel(product_id=request.product_id, quantity=quantity)

    async def Reserve(
        self, request: pb.ReserveRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReserveReply:
        with _observe("Reserve", context):
            if not request.order_id or not request.lines:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "order_id and lines needed")
            if any(line.quantity <= 0 for line in request.lines):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "quantities must be > 0")
            lines = [stock.Line(line.product_id, line.quantity) for line in request.lines]
            try:
                order_id = request.order_id
                replayed = await self.db.run_core(lambda s: stock.reserve(s, order_id, lines))
            except stock.InsufficientStock as short:
                log.info("reservation refused", order_id=request.order_id, reason=str(short))
                await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(short))
            log.info("reserved", order_id=request.order_id, replayed=replayed)
            return pb.ReserveReply(order_id=request.order_id, replayed=replayed)

    async def Release(
        self, request: pb.ReleaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReleaseReply:
        with _observe("Release", context):
            if not request.order_id:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "order_id needed")
            order_id = request.order_id
            released = await self.db.run_core(lambda s: stock.release(s, order_id))
            log.info("reservation released", order_id=order_id, released=released)
            return pb.ReleaseReply(order_id=order_id, released=released)


@contextlib.contextmanager
def _observe(method: str, context: grpc.aio.ServicerContext) -> Iterator[None]:
    """The caller's request id (metadata ``x-request-id``, a bad one replaced) on every log line
    of the call, and its RED metrics."""
    metadata = dict(context.invocation_metadata() or ())
    started = time.perf_counter()
    code = "OK"
    try:
        with request_scope(metadata.get("x-request-id")):
            yield
    except BaseException:
        status = context.code()
        code = status.name if isinstance(status, grpc.StatusCode) else "UNKNOWN"
        raise
    finally:
        RPCS.labels(method, code).inc()
        RPC_SECONDS.labels(method).observe(time.perf_counter() - started)


async def _watch_health(db: Database, servicer: health.aio.HealthServicer) -> None:
    """Keeps the gRPC health status in step with the database, every second."""
    check = database_check(db)
    while True:
        failing = await run_checks({"database": check})
        status = (
            health_pb2.HealthCheckResponse.NOT_SERVING
            if failing
            else health_pb2.HealthCheckResponse.SERVING
        )
        for name in ("", SERVICE_NAME):
            await servicer.set(name, status)
        await asyncio.sleep(1.0)


def side_app(db: Database) -> FastAPI:
    return create_app("inventory", lifespan=None, checks={"database": database_check(db)})


async def run(settings: InventorySettings, db: Database, http: Any) -> None:
    """The gRPC server until the HTTP side server ``http`` returns (on SIGTERM or SIGINT)."""
    server = grpc.aio.server(
        interceptors=grpc_server_interceptors(), options=[("grpc.so_reuseport", 0)]
    )
    pb_grpc.add_InventoryServicer_to_server(InventoryServicer(db), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    address = f"{settings.service_host}:{settings.service_port}"
    if server.add_insecure_port(address) == 0:
        raise SystemExit(f"cannot listen on {address}")
    await server.start()
    watcher = asyncio.create_task(_watch_health(db, health_servicer))
    log.info("grpc listening", address=address)
    try:
        await http.serve()  # returns on SIGTERM/SIGINT
    finally:
        watcher.cancel()
        await health_servicer.enter_graceful_shutdown()
        await server.stop(settings.shutdown_grace_seconds)
        db.close()


def serve(settings: InventorySettings) -> None:
    # one connection per reservation in flight: enough to keep for a busy shop's orders
    db = Database(settings.database_url, pool_size=20, max_overflow=0)
    http = server_for(side_app(db), settings.service_host, settings.metrics_port, settings)
    stop_on_signals(http)  # before anything starts: an early SIGTERM is not lost
    run_loop(run(settings, db, http))

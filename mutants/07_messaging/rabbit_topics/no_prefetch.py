"""Never sets a prefetch: the broker hands every message over at once.

A kept wrong solution: the tests of this exercise must catch it.
(reference solution).

- A **topic exchange** routes a message to every queue bound with a pattern that matches its
  routing key: words separated by dots, ``*`` stands for exactly one word, ``#`` for zero or
  more words.
- **Manual acks**: the broker forgets a message only when the consumer acknowledges it; an
  unacknowledged message goes back to the queue if the consumer dies.
- **Prefetch** (``basic.qos``) caps how many unacknowledged messages the broker hands one
  consumer: with aio-pika's callback consumer it is also the number of messages handled at once.
- A **dead-letter exchange** receives what the queue gives up on: a message rejected without
  requeue, or one delivered too often. A *quorum* queue counts deliveries itself:
  ``x-delivery-limit: n`` dead-letters a message returned more than ``n`` times.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from .envelope import PoisonMessage

Handler = Callable[[bytes, str], Awaitable[None]]


def topic_matches(pattern: str, routing_key: str) -> bool:
    """Whether a topic binding ``pattern`` matches ``routing_key`` as RabbitMQ decides it."""
    return _match(pattern.split("."), routing_key.split(".") if routing_key else [])


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        # '#' swallows zero words, or one word and stays in place for more
        return _match(rest, words) or (bool(words) and _match(pattern, words[1:]))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])


@dataclass(frozen=True)
class Topology:
    """The names of one consumer's exchanges and queues, and its failure budget.

    A message whose handler fails ``max_failures`` times is dead-lettered.
    """

    exchange: str
    queue: str
    dead_letter_exchange: str
    dead_letter_queue: str
    bindings: tuple[str, ...]
    max_failures: int = 3

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError(f"max_failures must be at least 1, got {self.max_failures}")
        if not self.bindings:
            raise ValueError("bindings must name at least one routing pattern")


async def declare(channel: AbstractChannel, topology: Topology) -> AbstractQueue:
    """Declares everything, durable, and returns the work queue.

    - ``exchange``: a topic exchange; ``dead_letter_exchange``: a fanout exchange;
    - ``dead_letter_queue`` bound to the dead-letter exchange;
    - ``queue``: a quorum queue (``x-queue-type: quorum``) whose dead letters go to the
      dead-letter exchange, with ``x-delivery-limit`` set so that the ``max_failures``-th
      failed delivery is the last; bound to ``exchange`` once per pattern in ``bindings``.
    """
    exchange = await channel.declare_exchange(
        topology.exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    dead_letters = await channel.declare_exchange(
        topology.dead_letter_exchange, aio_pika.ExchangeType.FANOUT, durable=True
    )
    dead_letter_queue = await channel.declare_queue(topology.dead_letter_queue, durable=True)
    await dead_letter_queue.bind(dead_letters)
    queue = await channel.declare_queue(
        topology.queue,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": topology.dead_letter_exchange,
            # the limit counts *re*deliveries: n failures = the first delivery + (n - 1) more
            "x-delivery-limit": topology.max_failures - 1,
        },
    )
    for pattern in topology.bindings:
        await queue.bind(exchange, routing_key=pattern)
    return queue


async def publish(channel: AbstractChannel, exchange: str, routing_key: str, body: bytes) -> None:
    """Publishes a persistent message and returns once the broker has confirmed it."""
    target = await channel.get_exchange(exchange, ensure=False)
    await target.publish(
        aio_pika.Message(
            body,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type="application/json",
        ),
        routing_key=routing_key,
    )


async def consume(
    channel: AbstractChannel,
    topology: Topology,
    handler: Handler,
    *,
    prefetch: int,
    stop: asyncio.Event,
) -> int:
    """Consumes ``topology.queue`` with manual acks until ``stop`` is set.

    ``handler(body, routing_key)`` returns → ack; raises ``PoisonMessage`` → reject without
    requeue (straight to the dead letter); raises anything else → nack with requeue (the broker
    counts it against the delivery limit). At most ``prefetch`` messages are in hand at once.
    When ``stop`` is set: stop taking messages, let the ones in hand finish, return how many
    were acknowledged. When cancelled: cancel the handlers in hand (their messages, never
    acknowledged, go back to the queue) and let the cancellation propagate.
    """
    if prefetch < 1:
        raise ValueError(f"prefetch must be at least 1, got {prefetch}")
    queue = await channel.get_queue(topology.queue, ensure=True)
    in_hand: set[asyncio.Task[None]] = set()
    acked = 0

    async def on_message(message: AbstractIncomingMessage) -> None:
        nonlocal acked
        task = asyncio.current_task()
        assert task is not None
        in_hand.add(task)
        try:
            try:
                await handler(message.body, message.routing_key or "")
            except PoisonMessage:
                await message.reject(requeue=False)
            except Exception:
                await message.nack(requeue=True)
            else:
                await message.ack()
                acked += 1
        finally:
            in_hand.discard(task)

    tag = await queue.consume(on_message, no_ack=False)
    try:
        await stop.wait()
    except asyncio.CancelledError:
        for task in in_hand:  # cancelled, not stopped: drop what is in hand, unacknowledged
            task.cancel()
        raise
    finally:
        await queue.cancel(tag)
        if in_hand:
            await asyncio.gather(*in_hand, return_exceptions=True)
    return acked

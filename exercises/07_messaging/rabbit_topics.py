"""07.4 — RabbitMQ with aio-pika: topic routing, manual acks, prefetch, a dead-letter queue.

- A **topic exchange** routes a message to every queue bound with a pattern that matches its
  routing key: words separated by dots, ``*`` stands for exactly one word, ``#`` for zero or
  more words (``order.*.eu`` matches ``order.placed.eu``; ``order.#`` matches ``order``).
- **Manual acks**: the broker forgets a message only when the consumer acknowledges it; an
  unacknowledged message goes back to the queue if the consumer dies.
- **Prefetch** (``basic.qos``) caps how many unacknowledged messages the broker hands one
  consumer: with aio-pika's callback consumer it is also the number of messages handled at once.
- A **dead-letter exchange** receives what the queue gives up on: a message rejected without
  requeue, or one delivered too often. A *quorum* queue counts deliveries itself:
  ``x-delivery-limit: n`` dead-letters a message returned more than ``n`` times. The broker
  records why in the message's ``x-death`` header (``rejected``, ``delivery_limit``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aio_pika.abc import AbstractChannel, AbstractQueue

from .envelope import PoisonMessage  # noqa: F401 - consume() reacts to it

Handler = Callable[[bytes, str], Awaitable[None]]


def topic_matches(pattern: str, routing_key: str) -> bool:
    """Whether a topic binding ``pattern`` matches ``routing_key`` as RabbitMQ decides it.

    Both are split on dots. ``*`` matches exactly one word (possibly empty, as in
    ``order..eu``), ``#`` matches zero or more words, any other word only itself. ``#``
    alone matches every key, the empty one too.
    """
    raise NotImplementedError("07.4: split on '.', match word by word ('#' may eat 0 words)")


@dataclass(frozen=True)
class Topology:
    """The names of one consumer's exchanges and queues, and its failure budget.

    A message whose handler fails ``max_failures`` times is dead-lettered.
    ValueError (message naming ``max_failures``) when it is below 1; ValueError (naming
    ``bindings``) when there is no binding pattern.
    """

    exchange: str
    queue: str
    dead_letter_exchange: str
    dead_letter_queue: str
    bindings: tuple[str, ...]
    max_failures: int = 3

    def __post_init__(self) -> None:
        raise NotImplementedError("07.4: check max_failures and bindings")


async def declare(channel: AbstractChannel, topology: Topology) -> AbstractQueue:
    """Declares everything, durable, and returns the work queue.

    - ``exchange``: a durable topic exchange;
    - ``dead_letter_exchange``: a durable fanout exchange, and ``dead_letter_queue`` (a
      durable queue) bound to it;
    - ``queue``: a durable quorum queue with exactly these arguments: ``x-queue-type:
      quorum``, ``x-dead-letter-exchange: <dead_letter_exchange>`` and an
      ``x-delivery-limit`` such that the ``max_failures``-th failed delivery is the last (the
      limit counts *re*deliveries); bound to ``exchange`` once per pattern in ``bindings``.
      (RabbitMQ refuses to re-declare a queue with different arguments, so every consumer of
      the queue must declare it the same way.)
    """
    raise NotImplementedError("07.4: declare_exchange, declare_queue, bind")


async def publish(channel: AbstractChannel, exchange: str, routing_key: str, body: bytes) -> None:
    """Publishes ``body`` to the (already declared) ``exchange`` as a persistent message
    (``DeliveryMode.PERSISTENT``), and returns once the broker has confirmed it (aio-pika's
    channels have publisher confirms on: ``await exchange.publish(...)`` waits for it)."""
    raise NotImplementedError("07.4: get the exchange, publish a persistent Message")


async def consume(
    channel: AbstractChannel,
    topology: Topology,
    handler: Handler,
    *,
    prefetch: int,
    stop: asyncio.Event,
) -> int:
    """Consumes ``topology.queue`` (declared already) with manual acks until ``stop`` is set.

    For each message, ``await handler(body, routing_key)``:

    - it returns: ``ack``;
    - it raises ``PoisonMessage``: ``reject(requeue=False)``, straight to the dead letter;
    - it raises any other ``Exception``: ``nack(requeue=True)``; the quorum queue counts the
      delivery and dead-letters the message once the limit is reached.

    At most ``prefetch`` messages are in hand at once (``set_qos``); ValueError (naming
    ``prefetch``) when it is below 1. When ``stop`` is set: stop taking messages, let the
    ones in hand finish, and return how many messages were acknowledged. When cancelled:
    cancel the handlers in hand (their messages, never acknowledged, go back to the queue)
    and let the cancellation propagate.
    """
    raise NotImplementedError("07.4: set_qos, queue.consume(callback), wait for stop, cancel")

"""07.4 — RabbitMQ with aio-pika: topic routing, manual acks, prefetch, dead-letter queue."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import pytest

from journey.targets import load

rabbit = load(__file__, "rabbit_topics")
envelope = load(__file__, "envelope")

DEADLINE = 10.0


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("order.placed", "order.placed", True),
        ("order.placed", "order.paid", False),
        ("order.*", "order.placed", True),
        ("order.*", "order", False),
        ("order.*", "order.placed.eu", False),
        ("*.placed.*", "order.placed.eu", True),
        ("order.#", "order", True),
        ("order.#", "order.placed.eu.paris", True),
        ("#.eu", "eu", True),
        ("#.eu", "order.placed.eu", True),
        ("#.eu", "order.placed.us", False),
        ("order.#.eu", "order.eu", True),
        ("order.#.eu", "order.placed.big.eu", True),
        ("#", "anything.at.all", True),
        ("#", "", True),
        ("*", "", False),
        ("a.#.#.b", "a.b", True),
        ("*.*", "order", False),
        ("order.*.eu", "order..eu", True),
    ],
)
def test_topic_patterns_match_as_rabbitmq_matches_them(pattern, key, expected) -> None:
    assert rabbit.topic_matches(pattern, key) is expected, (
        f"{pattern!r} vs {key!r}: '*' is exactly one word, '#' is zero or more words"
    )


def test_a_topology_needs_a_failure_budget_and_a_binding() -> None:
    with pytest.raises(ValueError, match="max_failures"):
        rabbit.Topology("x", "q", "dlx", "dlq", ("a.*",), max_failures=0)
    with pytest.raises(ValueError, match="bindings"):
        rabbit.Topology("x", "q", "dlx", "dlq", ())
    assert rabbit.Topology("x", "q", "dlx", "dlq", ("a",), max_failures=1).max_failures == 1


def topology(rabbit_names, bindings=("order.*.eu", "refund.#"), max_failures=3):
    return rabbit.Topology(
        exchange=rabbit_names("events"),
        queue=rabbit_names("work"),
        dead_letter_exchange=rabbit_names("dead-letters"),
        dead_letter_queue=rabbit_names("dead-letter-queue"),
        bindings=tuple(bindings),
        max_failures=max_failures,
    )


@contextlib.asynccontextmanager
async def channel(url: str):
    import aio_pika

    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        yield await connection.channel()


async def ready_count(url: str, queue: str) -> int:
    """Messages waiting in the queue (not counting those handed to a consumer)."""
    async with channel(url) as ch:
        declared = await ch.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


async def dead_letters(url: str, queue: str, expected: int) -> list:
    """Reads `expected` messages from the dead-letter queue, waiting for them."""
    found = []
    async with channel(url) as ch:
        dlq = await ch.get_queue(queue)
        async with asyncio.timeout(DEADLINE):
            while len(found) < expected:
                message = await dlq.get(no_ack=True, fail=False)
                if message is None:
                    await asyncio.sleep(0.02)
                else:
                    found.append(message)
    return found


async def until(condition, seconds: float = DEADLINE) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


def test_declare_makes_durable_exchanges_and_a_quorum_queue(rabbitmq_url, rabbit_names) -> None:
    import aio_pika

    topo = topology(rabbit_names)

    async def main():
        async with channel(rabbitmq_url) as ch:
            queue = await rabbit.declare(ch, topo)
            assert queue.name == topo.queue, "declare returns the work queue"
        async with channel(rabbitmq_url) as ch:
            # a passive re-declare with other arguments fails: these must be the real ones
            await ch.declare_queue(
                topo.queue,
                durable=True,
                arguments={
                    "x-queue-type": "quorum",
                    "x-dead-letter-exchange": topo.dead_letter_exchange,
                    "x-delivery-limit": 2,
                },
            )
            await ch.declare_exchange(topo.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
            await ch.declare_exchange(
                topo.dead_letter_exchange, aio_pika.ExchangeType.FANOUT, durable=True
            )
            await ch.declare_queue(topo.dead_letter_queue, durable=True)

    try:
        asyncio.run(main())
    except aio_pika.exceptions.ChannelPreconditionFailed as error:
        pytest.fail(
            "declare must make: a durable topic exchange, a durable fanout dead-letter "
            "exchange, a durable dead-letter queue, and the work queue as a durable quorum "
            "queue with x-dead-letter-exchange and x-delivery-limit = max_failures - 1 "
            f"(RabbitMQ said: {error})"
        )


def test_topic_routing_delivers_exactly_the_matching_keys(rabbitmq_url, rabbit_names) -> None:
    topo = topology(rabbit_names, bindings=("order.*.eu", "refund.#"))
    keys = [
        "order.placed.eu",
        "order.placed.us",
        "order.paid.eu",
        "order.eu",
        "refund",
        "refund.issued.eu",
        "invoice.sent",
    ]
    received: list[str] = []

    async def handler(body: bytes, routing_key: str) -> None:
        assert body == routing_key.encode()
        received.append(routing_key)

    async def main() -> int:
        async with channel(rabbitmq_url) as ch:
            await rabbit.declare(ch, topo)
            for key in keys:
                await rabbit.publish(ch, topo.exchange, key, key.encode())
            stop = asyncio.Event()
            consumer = asyncio.create_task(
                rabbit.consume(ch, topo, handler, prefetch=10, stop=stop)
            )
            expected = [k for k in keys if any(rabbit.topic_matches(b, k) for b in topo.bindings)]
            assert len(expected) == 4
            try:
                await until(lambda: len(received) >= len(expected))
            finally:
                stop.set()
            return await asyncio.wait_for(consumer, DEADLINE)

    acked = asyncio.run(main())
    assert sorted(received) == sorted(
        ["order.placed.eu", "order.paid.eu", "refund", "refund.issued.eu"]
    ), "each message reaches the queue once if any binding matches its key, else never"
    assert acked == 4, "consume returns how many messages it acknowledged"


def test_prefetch_caps_the_messages_in_hand(rabbitmq_url, rabbit_names) -> None:
    topo = topology(rabbit_names, bindings=("job.#",))
    in_hand = peak = handled = 0

    async def main() -> int:
        gate = asyncio.Event()

        async def slow(body: bytes, routing_key: str) -> None:
            nonlocal in_hand, peak, handled
            in_hand += 1
            peak = max(peak, in_hand)
            try:
                await asyncio.wait_for(gate.wait(), DEADLINE)
            finally:
                in_hand -= 1
            handled += 1

        async with channel(rabbitmq_url) as ch:
            await rabbit.declare(ch, topo)
            for n in range(10):
                await rabbit.publish(ch, topo.exchange, "job.run", str(n).encode())
            stop = asyncio.Event()
            consumer = asyncio.create_task(rabbit.consume(ch, topo, slow, prefetch=3, stop=stop))
            try:
                await until(lambda: in_hand >= 3)
                waiting = await ready_count(rabbitmq_url, topo.queue)
            finally:
                gate.set()
            await until(lambda: handled == 10)
            stop.set()
            await asyncio.wait_for(consumer, DEADLINE)
            return waiting

    waiting = asyncio.run(main())
    assert waiting == 7, (
        f"with prefetch=3 the broker hands over 3 unacknowledged messages and keeps the other "
        f"7 in the queue; {waiting} were waiting: set channel.set_qos(prefetch_count=...)"
    )
    assert peak == 3, f"at most 3 messages in hand at once, and the limit is reached (peak {peak})"
    assert handled == 10


def test_a_failing_message_is_dead_lettered_after_max_failures(rabbitmq_url, rabbit_names) -> None:
    topo = topology(rabbit_names, bindings=("order.#",), max_failures=3)
    attempts: Counter[bytes] = Counter()

    async def handler(body: bytes, routing_key: str) -> None:
        attempts[body] += 1
        if body == b"flaky":
            raise ConnectionError("the database is away")

    async def main():
        async with channel(rabbitmq_url) as ch:
            await rabbit.declare(ch, topo)
            await rabbit.publish(ch, topo.exchange, "order.placed", b"flaky")
            await rabbit.publish(ch, topo.exchange, "order.placed", b"fine")
            stop = asyncio.Event()
            consumer = asyncio.create_task(rabbit.consume(ch, topo, handler, prefetch=5, stop=stop))
            try:
                letters = await dead_letters(rabbitmq_url, topo.dead_letter_queue, 1)
                await until(lambda: attempts[b"fine"] >= 1)
            finally:
                stop.set()
                await asyncio.wait_for(consumer, DEADLINE)
            return letters

    try:
        letters = asyncio.run(main())
    except TimeoutError:
        pytest.fail(
            f"the failing message never reached the dead-letter queue (tried "
            f"{attempts[b'flaky']} times): nack it with requeue=True and let the quorum "
            "queue's x-delivery-limit dead-letter it"
        )
    assert attempts[b"flaky"] == 3, (
        f"max_failures=3: the handler should see the message 3 times, saw it "
        f"{attempts[b'flaky']} (x-delivery-limit counts redeliveries: use max_failures - 1)"
    )
    assert attempts[b"fine"] == 1, "a message that succeeds is acknowledged once"
    assert letters[0].body == b"flaky"
    death = letters[0].headers["x-death"][0]
    assert death["reason"] == "delivery_limit", death


def test_a_poison_message_goes_straight_to_the_dead_letter(rabbitmq_url, rabbit_names) -> None:
    topo = topology(rabbit_names, bindings=("order.#",), max_failures=5)
    attempts: Counter[bytes] = Counter()

    async def handler(body: bytes, routing_key: str) -> None:
        attempts[body] += 1
        if body == b"{broken":
            raise envelope.PoisonMessage("not valid JSON")

    async def main():
        async with channel(rabbitmq_url) as ch:
            await rabbit.declare(ch, topo)
            for body in (b"{broken", b"after"):
                await rabbit.publish(ch, topo.exchange, "order.placed", body)
            stop = asyncio.Event()
            consumer = asyncio.create_task(rabbit.consume(ch, topo, handler, prefetch=1, stop=stop))
            try:
                letters = await dead_letters(rabbitmq_url, topo.dead_letter_queue, 1)
                await until(lambda: attempts[b"after"] >= 1)
            finally:
                stop.set()
                await asyncio.wait_for(consumer, DEADLINE)
            return letters

    letters = asyncio.run(main())
    assert attempts[b"{broken"] == 1, (
        "a poison message can never succeed: reject it with requeue=False, once"
    )
    assert attempts[b"after"] == 1, "the message after the poison one is handled as usual"
    assert letters[0].headers["x-death"][0]["reason"] == "rejected"


def test_an_unacknowledged_message_comes_back(rabbitmq_url, rabbit_names) -> None:
    topo = topology(rabbit_names, bindings=("order.#",))
    seen: list[bytes] = []

    async def main():
        async def crashes(body: bytes, routing_key: str) -> None:
            seen.append(body)
            await asyncio.Event().wait()  # the consumer "dies" holding the message

        async with channel(rabbitmq_url) as ch:
            await rabbit.declare(ch, topo)
            await rabbit.publish(ch, topo.exchange, "order.placed", b"precious")
        async with channel(rabbitmq_url) as ch:  # this connection closes with the message
            stop = asyncio.Event()
            consumer = asyncio.create_task(rabbit.consume(ch, topo, crashes, prefetch=1, stop=stop))
            await until(lambda: seen)
            consumer.cancel()
            done, _ = await asyncio.wait({consumer}, timeout=DEADLINE)
            assert done, (
                "a cancelled consume() must return: cancel the handlers in hand, do not wait "
                "for them"
            )
            with contextlib.suppress(asyncio.CancelledError):
                consumer.result()
        return await ready_count(rabbitmq_url, topo.queue)

    waiting = asyncio.run(main())
    assert waiting == 1, (
        "a message handed to a consumer that dies before acknowledging goes back to the "
        "queue: consume with manual acks (no_ack=False) and ack only after the handler"
    )


def test_prefetch_must_be_positive(rabbitmq_url, rabbit_names) -> None:
    topo = topology(rabbit_names)

    async def handler(body: bytes, routing_key: str) -> None:
        pass

    async def main() -> None:
        async with channel(rabbitmq_url) as ch:
            await rabbit.declare(ch, topo)
            await rabbit.consume(ch, topo, handler, prefetch=0, stop=asyncio.Event())

    with pytest.raises(ValueError, match="prefetch"):
        asyncio.run(main())

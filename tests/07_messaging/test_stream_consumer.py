"""07.7 (capstone) — the idempotent stream consumer.

Stage 1 (``handle``): decode, dedup and effect in one transaction, retries, dead letters, ack
after the effect. Stage 2 (``consume_once``): the group at id 0, own pending entries, XAUTOCLAIM,
too many deliveries. Stage 3 (``run``): several instances, Redis losing its data, stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import orjson
import pytest
from sqlalchemy import text

from journey.targets import load

consumer_module = load(__file__, "stream_consumer")
retries = load(__file__, "retries")
envelope = load(__file__, "envelope")

GROUP = "notifier"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DEADLINE = 10.0


class Crash(BaseException):
    """Stands for the process dying in the middle of a handler (not an ordinary error)."""


# -- events, as the relay writes them: fields event_id, type, event (lesson 02's envelope) --


def event_bytes(event_id: str, *, type: str = "order.placed", version: int = 1) -> bytes:
    return orjson.dumps(
        {
            "event_id": event_id,
            "type": type,
            "version": version,
            "occurred_at": "2025-06-01T12:00:00.000000Z",
            "payload": {"order_id": f"order-{event_id[:8]}"},
        },
        option=orjson.OPT_SORT_KEYS,
    )


def decode(raw: bytes | str) -> SimpleNamespace:
    """The tests' own decoder (07.1's decode would do the same): poison -> PoisonMessage."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise envelope.PoisonMessage("not valid JSON") from None
    if data.get("type") != "order.placed":
        raise envelope.PoisonMessage(f"unknown event type {data.get('type')!r}")
    if data.get("version") != 1:
        raise envelope.PoisonMessage(f"unknown version {data.get('version')} of 'order.placed'")
    return SimpleNamespace(**data)


def new_id() -> str:
    return str(uuid.uuid4())


async def publish(redis, stream: str, event_id: str, raw: bytes | None = None) -> str:
    fields = {"event_id": event_id, "type": "order.placed", "event": raw or event_bytes(event_id)}
    return (await redis.xadd(stream, fields)).decode()


# -- the effect: one notification row per processed event -----------------------------------

NOTIFICATIONS_SQL = "CREATE TABLE notifications (event_id text NOT NULL, order_id text NOT NULL)"


def notify(session, event) -> None:
    session.execute(
        text("INSERT INTO notifications VALUES (:e, :o)"),
        {"e": str(event.event_id), "o": event.payload["order_id"]},
    )


def notifications(sessions) -> dict[str, int]:
    with sessions.begin() as session:
        rows = session.execute(
            text("SELECT event_id, count(*) FROM notifications GROUP BY event_id")
        )
        return {row[0]: int(row[1]) for row in rows}


def processed(sessions) -> list[tuple[str, str, datetime]]:
    with sessions.begin() as session:
        rows = session.execute(
            text("SELECT consumer_group, event_id, processed_at FROM processed_events")
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def tables(sessions, execute_script):
    # twice: IF NOT EXISTS makes it safe to run again
    ddl = ";".join([consumer_module.SCHEMA_SQL, consumer_module.SCHEMA_SQL, NOTIFICATIONS_SQL])
    execute_script(sessions, ddl)
    return sessions


class FakeSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def make(tables, streams):
    """Builds consumers on the test's stream, group and dead-letter stream."""

    def build(redis, name: str = "c1", **options):
        options.setdefault("handler", notify)
        options.setdefault("retry", retries.RetryPolicy(max_attempts=3, base_delay=0.01))
        options.setdefault("sleep", FakeSleep())
        options.setdefault("block_ms", 20)
        return consumer_module.StreamConsumer(
            sessions=tables,
            redis=redis,
            stream=streams("orders"),
            group=GROUP,
            consumer=name,
            decode=decode,
            dead_letter_stream=streams("dead"),
            clock=lambda: NOW,
            rng=random.Random(1),
            **options,
        )

    return build


async def deliver(redis, stream: str, consumer: str = "c1") -> list[tuple[str, dict]]:
    """Reads new entries as `consumer` would (XREADGROUP '>'): they become pending on it."""
    reply = await redis.xreadgroup(GROUP, consumer, {stream: ">"}, count=100)
    return [(entry_id.decode(), fields) for _, items in reply or [] for entry_id, fields in items]


async def pending_count(redis, stream: str) -> int:
    return int((await redis.xpending(stream, GROUP))["pending"])


async def dead_letters(redis, stream: str) -> list[dict[str, str]]:
    entries = await redis.xrange(stream)
    return [{k.decode(): v.decode(errors="replace") for k, v in f.items()} for _, f in entries]


def run(main):
    return asyncio.run(asyncio.wait_for(main(), 60))


# -- stage 1: one entry ------------------------------------------------------------------


def test_each_entry_is_processed_once_and_acknowledged(
    make, tables, streams, redis_space, open_redis
):
    ids = [new_id() for _ in range(5)]

    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis)
            await consumer.ensure_group()
            for event_id in ids:
                await publish(redis, streams("orders"), event_id)
            handled = await consumer.consume_once()
            return handled, await pending_count(redis, streams("orders"))

    handled, pending = run(main)
    assert handled == 5, "consume_once returns how many entries it handled"
    assert notifications(tables) == dict.fromkeys(ids, 1)
    assert pending == 0, "every entry is acknowledged once its effect committed"
    assert sorted(processed(tables)) == sorted((GROUP, e, NOW) for e in ids), (
        "processed_events holds (group, event_id, processed_at from the clock you were given)"
    )


def test_every_entry_twice_gives_each_effect_once(make, tables, streams, redis_space, open_redis):
    ids = [new_id() for _ in range(4)]

    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis)
            await consumer.ensure_group()
            for event_id in ids + ids:  # the relay published everything twice
                await publish(redis, streams("orders"), event_id)
            outcomes = [
                await consumer.handle(entry_id, fields)
                for entry_id, fields in await deliver(redis, streams("orders"))
            ]
            return outcomes, await pending_count(redis, streams("orders"))

    outcomes, pending = run(main)
    assert outcomes == [consumer_module.PROCESSED] * 4 + [consumer_module.DUPLICATE] * 4
    assert notifications(tables) == dict.fromkeys(ids, 1), (
        "a duplicate must do nothing: record the event id and make the effect in one "
        "transaction, INSERT ... ON CONFLICT DO NOTHING first"
    )
    assert pending == 0, "handle() acknowledges duplicates too, or they come back forever"


def test_the_effect_and_its_event_id_commit_together(
    make, tables, streams, redis_space, open_redis
):
    event_id = new_id()
    calls = 0

    def notify_after_a_hiccup(session, event) -> None:
        nonlocal calls
        calls += 1
        notify(session, event)  # half the effect is written ...
        if calls == 1:
            raise ConnectionError("the mail gateway hung up")  # ... then it fails

    async def main():
        async with open_redis(redis_space.url) as redis:
            sleep = FakeSleep()
            consumer = make(redis, handler=notify_after_a_hiccup, sleep=sleep)
            await consumer.ensure_group()
            await publish(redis, streams("orders"), event_id)
            await consumer.consume_once()
            return sleep.waits, await pending_count(redis, streams("orders"))

    waits, pending = run(main)
    assert calls == 2, "a transient error is retried"
    assert notifications(tables) == {event_id: 1}, (
        "the failed attempt's half-written effect must roll back with its event id, and the "
        "retry must run the effect again: both belong to ONE transaction"
    )
    assert len(waits) == 1, "one backoff wait before the retry (07.2)"
    assert 0 <= waits[0] <= 0.01, "a jittered wait within the first ceiling"
    assert pending == 0


def test_a_handler_that_keeps_failing_ends_in_the_dead_letter(
    make, tables, streams, redis_space, open_redis
):
    event_id = new_id()

    def always_down(session, event) -> None:
        raise ConnectionError("the mail gateway is down")

    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis, handler=always_down)
            await consumer.ensure_group()
            await publish(redis, streams("orders"), event_id)
            [(entry_id, fields)] = await deliver(redis, streams("orders"))
            outcome = await consumer.handle(entry_id, fields)
            return (
                entry_id,
                outcome,
                await dead_letters(redis, streams("dead")),
                await pending_count(redis, streams("orders")),
            )

    entry_id, outcome, letters, pending = run(main)
    assert outcome == consumer_module.DEAD_LETTERED
    assert len(letters) == 1
    letter = letters[0]
    assert letter["entry_id"] == entry_id, letter
    assert letter["reason"].startswith("gave up after 3"), letter
    assert orjson.loads(letter["event"])["event_id"] == event_id, "keep the event to replay it"
    assert pending == 0, "a dead-lettered entry is acknowledged: the consumer moves on"
    assert processed(tables) == [], "nothing was processed, so nothing is recorded"


def test_an_entry_is_acknowledged_only_after_its_effect(
    make, tables, streams, redis_space, open_redis
):
    ids = [new_id() for _ in range(4)]

    def dies_on_the_third(session, event) -> None:
        if str(event.event_id) == ids[2]:
            raise Crash
        notify(session, event)

    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis, handler=dies_on_the_third)
            await consumer.ensure_group()
            for event_id in ids:
                await publish(redis, streams("orders"), event_id)
            with pytest.raises(Crash):
                await consumer.consume_once()
            summary = await redis.xpending(streams("orders"), GROUP)
            return int(summary["pending"])

    pending = run(main)
    assert notifications(tables) == {ids[0]: 1, ids[1]: 1}
    assert pending == 2, (
        "the entry in hand when the process died, and the one after it, must stay pending: "
        "XACK only after the effect committed"
    )


@pytest.mark.parametrize(
    ("raw", "reason_start"),
    [
        (b"{oops", "not valid JSON"),
        (event_bytes("x", type="order.shipped"), "unknown event type"),
        (event_bytes("x", version=7), "unknown version"),
    ],
)
def test_a_poison_entry_goes_to_the_dead_letter_and_the_next_one_is_processed(
    make, tables, streams, redis_space, open_redis, raw, reason_start
):
    good = new_id()
    called: list[str] = []

    def handler(session, event) -> None:
        called.append(str(event.event_id))
        notify(session, event)

    async def main():
        async with open_redis(redis_space.url) as redis:
            sleep = FakeSleep()
            consumer = make(redis, handler=handler, sleep=sleep)
            await consumer.ensure_group()
            poison_id = await publish(redis, streams("orders"), "poison", raw)
            await publish(redis, streams("orders"), good)
            handled = await consumer.consume_once()
            return (
                poison_id,
                handled,
                sleep.waits,
                await dead_letters(redis, streams("dead")),
                await pending_count(redis, streams("orders")),
            )

    poison_id, handled, waits, letters, pending = run(main)
    assert handled == 2
    assert called == [good], "the poison entry never reaches the handler"
    assert waits == [], "a poison entry is never retried"
    assert [letter["entry_id"] for letter in letters] == [poison_id]
    assert letters[0]["reason"].startswith(reason_start), letters[0]
    assert letters[0]["event"] == raw.decode(errors="replace"), (
        "the dead letter keeps the raw event"
    )
    assert pending == 0, "poison is acknowledged once dead-lettered: it never blocks the group"


def test_an_entry_without_an_event_field_is_dead_lettered(
    make, tables, streams, redis_space, open_redis
):
    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis)
            await consumer.ensure_group()
            await redis.xadd(streams("orders"), {"something": "else"})
            await consumer.consume_once()
            return await dead_letters(redis, streams("dead")), await pending_count(
                redis, streams("orders")
            )

    letters, pending = run(main)
    assert len(letters) == 1, letters
    assert "event" in letters[0]["reason"], letters
    assert pending == 0


def test_a_handler_that_says_poison_is_not_retried(make, tables, streams, redis_space, open_redis):
    calls = 0

    def refuses(session, event) -> None:
        nonlocal calls
        calls += 1
        raise envelope.PoisonMessage("order.placed without items")

    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis, handler=refuses)
            await consumer.ensure_group()
            await publish(redis, streams("orders"), new_id())
            await consumer.consume_once()
            return await dead_letters(redis, streams("dead"))

    letters = run(main)
    assert calls == 1
    assert [letter["reason"] for letter in letters] == ["order.placed without items"]


# -- stage 2: rounds ----------------------------------------------------------------------


def test_the_group_starts_at_the_beginning_of_the_stream(
    make, tables, streams, redis_space, open_redis
):
    ids = [new_id() for _ in range(3)]

    async def main():
        async with open_redis(redis_space.url) as redis:
            for event_id in ids:  # published before any consumer ever ran
                await publish(redis, streams("orders"), event_id)
            return await make(redis).consume_once()

    assert run(main) == 3
    assert notifications(tables) == dict.fromkeys(ids, 1), (
        "create the group at id '0', not '$': entries added before the group are for it too"
    )


def test_a_dead_consumers_entries_are_claimed(
    make, tables, streams, redis_space, open_redis, eventually
):
    ids = [new_id() for _ in range(7)]

    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis, claim_idle_ms=30, batch_size=3)
            await consumer.ensure_group()
            for event_id in ids:
                await publish(redis, streams("orders"), event_id)
            # another instance read them all, then died without acknowledging
            await redis.xreadgroup(GROUP, "dead-instance", {streams("orders"): ">"}, count=10)
            handled = 0

            async def claimed_all() -> bool:
                nonlocal handled
                handled += await consumer.consume_once()
                return handled >= 7

            await eventually(claimed_all, DEADLINE)
            return await pending_count(redis, streams("orders"))

    pending = run(main)
    assert notifications(tables) == dict.fromkeys(ids, 1), (
        "entries idle on a dead consumer are claimed with XAUTOCLAIM (follow its cursor)"
    )
    assert pending == 0


def test_a_busy_consumers_entries_are_left_alone(make, tables, streams, redis_space, open_redis):
    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis, claim_idle_ms=60_000)
            await consumer.ensure_group()
            await publish(redis, streams("orders"), new_id())
            await redis.xreadgroup(GROUP, "busy-instance", {streams("orders"): ">"}, count=10)
            return await consumer.consume_once()

    assert run(main) == 0, "an entry idle for less than claim_idle_ms still belongs to its consumer"
    assert notifications(tables) == {}


def test_a_restarted_consumer_finishes_its_own_pending_entries(
    make, tables, streams, redis_space, open_redis
):
    ids = [new_id() for _ in range(5)]

    def dies_on_the_second(session, event) -> None:
        if str(event.event_id) == ids[1]:
            raise Crash
        notify(session, event)

    async def main():
        async with open_redis(redis_space.url) as redis:
            first_life = make(redis, name="notifier-1", handler=dies_on_the_second)
            await first_life.ensure_group()
            for event_id in ids:
                await publish(redis, streams("orders"), event_id)
            with pytest.raises(Crash):
                await first_life.consume_once()
            second_life = make(redis, name="notifier-1", claim_idle_ms=60_000)
            handled = await second_life.consume_once()
            return handled, await pending_count(redis, streams("orders"))

    handled, pending = run(main)
    assert handled == 4, "the restarted consumer first re-reads its own pending entries (id 0)"
    assert notifications(tables) == dict.fromkeys(ids, 1)
    assert pending == 0


def test_an_entry_delivered_too_often_is_dead_lettered_unprocessed(
    make, tables, streams, redis_space, open_redis, eventually
):
    called: list[str] = []

    def handler(session, event) -> None:
        called.append(str(event.event_id))
        notify(session, event)

    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis, handler=handler, claim_idle_ms=20, max_deliveries=5)
            await consumer.ensure_group()
            entry_id = await publish(redis, streams("orders"), new_id())
            await redis.xreadgroup(GROUP, "crashes-on-it", {streams("orders"): ">"})
            # it crashed its consumers 9 times already
            await redis.xclaim(
                streams("orders"), GROUP, "crashes-on-it", 0, [entry_id], retrycount=9
            )
            await eventually(consumer.consume_once, DEADLINE)
            return entry_id, await dead_letters(redis, streams("dead"))

    entry_id, letters = run(main)
    assert called == [], "an entry that has killed its consumers again and again is not tried again"
    assert [letter["entry_id"] for letter in letters] == [entry_id]
    assert "delivered 10 times" in letters[0]["reason"], letters[0]


TRACE = contextvars.ContextVar("trace", default=None)


class Tracer(consumer_module.ConsumerHooks):
    """Hooks as a service writes them: a context per entry (here a context variable standing
    for a trace span), and the outcomes."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str]] = []

    @contextlib.contextmanager
    def handling(self, entry_id, fields):
        token = TRACE.set((entry_id, _text(fields.get(b"traceparent", b"none"))))
        try:
            yield
        finally:
            TRACE.reset(token)

    def handled(self, entry_id, outcome):
        assert TRACE.get() is None, "handled() comes after the entry's context was left"
        self.outcomes.append((entry_id, outcome))


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def test_hooks_wrap_each_entry_and_hear_its_outcome(make, tables, streams, redis_space, open_redis):
    seen_by_handler: list[tuple[str, str] | None] = []

    def handler(session, event) -> None:
        seen_by_handler.append(TRACE.get())
        notify(session, event)

    hooks = Tracer()
    event_id = new_id()

    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis, handler=handler, hooks=hooks)
            await consumer.ensure_group()
            stream = streams("orders")
            fields = {"event_id": event_id, "type": "order.placed", "event": event_bytes(event_id)}
            first = (await redis.xadd(stream, {**fields, "traceparent": "00-trace-1"})).decode()
            again = (await redis.xadd(stream, fields)).decode()
            poison = await publish(redis, stream, new_id(), raw=b"not json")
            await consumer.consume_once()
            return first, again, poison

    first, again, poison = run(main)
    assert seen_by_handler == [(first, "00-trace-1")], (
        "the handler runs inside the context handling() made for its entry, with every field "
        "of the entry (asyncio.to_thread copies the context)"
    )
    assert hooks.outcomes == [
        (first, consumer_module.PROCESSED),
        (again, consumer_module.DUPLICATE),
        (poison, consumer_module.DEAD_LETTERED),
    ], "handled() hears every entry's outcome, duplicates and dead letters too"


@pytest.mark.parametrize("option", ["batch_size", "block_ms", "claim_idle_ms", "max_deliveries"])
def test_a_bad_configuration_is_refused(option) -> None:
    with pytest.raises(ValueError, match=option):
        consumer_module.StreamConsumer(
            sessions=None,
            redis=None,
            stream="orders",
            group=GROUP,
            consumer="c1",
            handler=notify,
            decode=decode,
            dead_letter_stream="dead",
            **{option: 0},
        )


# -- stage 3: run --------------------------------------------------------------------------


def test_two_instances_share_the_group_and_each_effect_happens_once(
    make, tables, streams, redis_space, open_redis, eventually
):
    ids = [new_id() for _ in range(40)]

    async def main():
        async with open_redis(redis_space.url) as one, open_redis(redis_space.url) as two:
            consumers = [make(one, name="n-1"), make(two, name="n-2")]
            tasks = [asyncio.create_task(c.run()) for c in consumers]
            try:
                for event_id in ids + ids[::2]:  # half of them twice
                    await publish(one, streams("orders"), event_id)
                await eventually(lambda: len(notifications(tables)) >= len(ids), DEADLINE)
                await eventually(lambda: _settled(one, streams("orders")), DEADLINE)
            finally:
                for consumer in consumers:
                    consumer.stop()
                done, _ = await asyncio.wait(tasks, timeout=DEADLINE)
            assert len(done) == 2, "stop() makes run() return after its current round"
            for task in done:
                task.result()  # run() must not have raised
            return await pending_count(one, streams("orders"))

    pending = run(main)
    assert notifications(tables) == dict.fromkeys(ids, 1)
    assert pending == 0


def test_run_carries_on_when_redis_loses_everything(
    make, tables, private_redis, open_redis, eventually
):
    before, after = [new_id() for _ in range(3)], [new_id() for _ in range(3)]

    async def main():
        async with open_redis(private_redis.url) as redis:
            consumer = consumer_module.StreamConsumer(
                sessions=tables,
                redis=redis,
                stream="orders",
                group=GROUP,
                consumer="n-1",
                handler=notify,
                decode=decode,
                dead_letter_stream="dead",
                block_ms=20,
            )
            task = asyncio.create_task(consumer.run())
            try:
                for event_id in before:
                    await publish(redis, "orders", event_id)
                await eventually(lambda: len(notifications(tables)) == 3, DEADLINE)
                await asyncio.to_thread(private_redis.restart)  # every key, stream and group gone
                for event_id in after:
                    await eventually(lambda e=event_id: _try_publish(redis, e), DEADLINE)
                await eventually(lambda: len(notifications(tables)) == 6, DEADLINE)
                assert not task.done(), "run() must survive Redis losing its data"
            finally:
                consumer.stop()
                await asyncio.wait({task}, timeout=DEADLINE)
            task.result()

    try:
        run(main)
    except TimeoutError:
        pytest.fail(
            "after Redis lost everything, the consumer must recreate its group (NOGROUP) and "
            f"go on; processed: {sorted(notifications(tables))}"
        )
    assert notifications(tables) == dict.fromkeys(before + after, 1)


async def _settled(redis, stream: str) -> bool:
    """Every entry read and acknowledged: nothing pending, nothing left to deliver."""
    groups = await redis.xinfo_groups(stream)
    return groups[0]["pending"] == 0 and groups[0]["lag"] == 0


async def _try_publish(redis, event_id: str) -> bool:
    try:
        await publish(redis, "orders", event_id)
    except Exception:  # the connection is being re-established
        return False
    return True


def test_cancelling_run_stops_it_at_once(
    make, tables, streams, redis_space, open_redis, eventually
):
    async def main():
        async with open_redis(redis_space.url) as redis:
            consumer = make(redis, block_ms=5_000)
            task = asyncio.create_task(consumer.run())

            async def blocked_in_a_read() -> bool:  # the consumer exists once it read
                try:
                    groups = await redis.xinfo_groups(streams("orders"))
                except Exception:
                    return False
                return bool(groups) and groups[0]["consumers"] == 1

            await eventually(blocked_in_a_read, DEADLINE)
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=3)
            assert done, "a cancelled consumer stops without waiting for its block to end"
            with pytest.raises(asyncio.CancelledError):
                task.result()

    run(main)

"""07.8 (capstone) — the transactional outbox relay and the lesson's promise.

The promise: every accepted order produces exactly one notification, even if Redis loses all
its data, as long as PostgreSQL keeps its data. These tests use a small consumer of their own
(``ReferenceConsumer`` in conftest.py: dedup by event id in PostgreSQL), so they check the relay
alone. Stage 1: the outbox and one pass. Stage 2: lost entries and the promise. Stage 3: two
relays at once, leases, and the loop. Stage 4: what the shop needs around it: headers and
hooks, and a stream that is never trimmed past what the group has acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from journey.targets import load

relay_module = load(__file__, "outbox_relay")

GROUP = "notifier"
DEADLINE = 15.0
START = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def outbox(sessions, execute_script, reference_consumer):
    # twice: IF NOT EXISTS makes it safe to run again; then the reference consumer's tables
    ddl = ";".join(
        [relay_module.SCHEMA_SQL, relay_module.SCHEMA_SQL, reference_consumer.SCHEMA_SQL]
    )
    execute_script(sessions, ddl)
    return sessions


def place_orders(sessions, count: int) -> list[str]:
    """Writes `count` events to the outbox, one transaction each, as the orders service does."""
    ids = []
    for _ in range(count):
        event_id = str(uuid.uuid4())
        with sessions.begin() as session:
            relay_module.add_to_outbox(
                session,
                event_id=event_id,
                type="order.placed",
                body=f'{{"id":"{event_id}"}}'.encode(),
            )
        ids.append(event_id)
    return ids


def outbox_rows(sessions) -> list[dict]:
    with sessions.begin() as session:
        rows = session.execute(
            text("SELECT id, event_id, stream_id, published_at, sent_at FROM outbox ORDER BY id")
        )
        return [dict(row._mapping) for row in rows]


def make_relay(sessions, redis, stream: str, **options):
    options.setdefault("recheck_seconds", 0)
    return relay_module.OutboxRelay(
        sessions=sessions, redis=redis, stream=stream, group=GROUP, **options
    )


def run(main):
    return asyncio.run(asyncio.wait_for(main(), 90))


async def stream_event_ids(redis, stream: str) -> list[str]:
    entries = await redis.xrange(stream)
    return [fields[b"event_id"].decode() for _, fields in entries]


# -- stage 1: the outbox and one pass ------------------------------------------------------


class OrderFailed(Exception):
    pass


def _fail_after_adding(sessions) -> None:
    with sessions.begin() as session:
        relay_module.add_to_outbox(session, event_id=uuid.uuid4(), type="order.placed", body=b"{}")
        raise OrderFailed("the order could not be written")


def test_add_to_outbox_joins_the_callers_transaction(outbox) -> None:
    with pytest.raises(OrderFailed):
        _fail_after_adding(outbox)
    assert outbox_rows(outbox) == [], (
        "add_to_outbox must not commit: the order and its event commit together or not at all"
    )
    ids = place_orders(outbox, 2)
    rows = outbox_rows(outbox)
    assert [row["event_id"] for row in rows] == ids
    assert all(row["stream_id"] is None and row["sent_at"] is None for row in rows)


def test_an_empty_body_is_refused(outbox) -> None:
    with pytest.raises(ValueError, match="body"), outbox.begin() as session:
        relay_module.add_to_outbox(session, event_id=uuid.uuid4(), type="order.placed", body=b"")


def test_a_pass_publishes_in_order_and_does_not_call_it_finished(
    outbox, streams, redis_space, open_redis
) -> None:
    ids = place_orders(outbox, 3)
    clock = Clock()

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, streams("orders"), clock=clock)
            report = await relay.relay_once()
            entries = await redis.xrange(streams("orders"))
            groups = await redis.xinfo_groups(streams("orders"))
            return report, entries, groups

    report, entries, groups = run(main)
    assert (report.claimed, report.published, report.confirmed) == (3, 3, 0), report
    assert [f[b"event_id"].decode() for _, f in entries] == ids, "one entry per row, in id order"
    first = entries[0][1]
    assert first[b"type"] == b"order.placed"
    assert first[b"event"] == f'{{"id":"{ids[0]}"}}'.encode(), "the body goes out byte for byte"
    assert [g["name"] for g in groups] == [GROUP.encode()], (
        "the relay creates the group (at id 0) before its first XADD"
    )
    rows = outbox_rows(outbox)
    assert [row["stream_id"] for row in rows] == [e[0].decode() for e in entries], (
        "remember each row's entry id: it is how the relay finds out later whether the group "
        "acknowledged it"
    )
    assert all(row["published_at"] == START for row in rows), "published_at comes from the clock"
    assert all(row["sent_at"] is None for row in rows), (
        "XADD returning is not enough for the promise: Redis may still lose the entry. A row "
        "is finished only once the consumer group has acknowledged it"
    )


def test_a_row_is_finished_once_the_group_acknowledged_it(
    outbox, streams, redis_space, open_redis
) -> None:
    place_orders(outbox, 2)
    clock = Clock()
    stream = streams("orders")

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, stream, clock=clock)
            await relay.relay_once()
            nobody_read = await relay.relay_once()
            read = await redis.xreadgroup(GROUP, "slow", {stream: ">"}, count=10)
            pending = await relay.relay_once()
            clock.advance(1)
            for entry_id, _ in read[0][1]:
                await redis.xack(stream, GROUP, entry_id)
            acknowledged = await relay.relay_once()
            after = await relay.relay_once()
            return nobody_read, pending, acknowledged, after

    nobody_read, pending, acknowledged, after = run(main)
    assert (nobody_read.in_flight, nobody_read.confirmed) == (2, 0), (
        f"entries the group has not delivered yet are in flight: {nobody_read}"
    )
    assert (pending.in_flight, pending.confirmed) == (2, 0), (
        f"delivered but pending (not acknowledged) is still in flight: {pending}"
    )
    assert (acknowledged.confirmed, acknowledged.published) == (2, 0), acknowledged
    assert after == relay_module.RelayReport(), "a finished row is never claimed again"
    rows = outbox_rows(outbox)
    assert all(row["sent_at"] == START + timedelta(seconds=1) for row in rows), (
        "sent_at is set, from the clock, when the group has acknowledged the entry"
    )


def test_rows_in_flight_are_rechecked_after_recheck_seconds(
    outbox, streams, redis_space, open_redis
) -> None:
    place_orders(outbox, 2)
    clock = Clock()

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, streams("orders"), clock=clock, recheck_seconds=5)
            await relay.relay_once()
            too_soon = await relay.relay_once()
            clock.advance(5)
            due = await relay.relay_once()
            return too_soon, due

    too_soon, due = run(main)
    assert too_soon.claimed == 0, "a row just published is not checked before recheck_seconds"
    assert (due.claimed, due.in_flight) == (2, 2), due


def test_stream_ids_compare_as_numbers_not_text(outbox, streams, redis_space, open_redis) -> None:
    place_orders(outbox, 5)
    stream = streams("orders")

    async def main():
        async with open_redis(redis_space.url) as redis:
            # an entry far in the future: the relay's entries get ids ...-8, -9, -10, -11, -12
            await redis.xadd(stream, {"event_id": "seed"}, id="9999999999999-7")
            await redis.xgroup_create(stream, GROUP, id="0")
            relay = make_relay(outbox, redis, stream)
            await relay.relay_once()
            read = await redis.xreadgroup(GROUP, "c", {stream: ">"}, count=3)  # -7, -8, -9
            for entry_id, _ in read[0][1]:
                await redis.xack(stream, GROUP, entry_id)
            return await relay.relay_once()

    report = run(main)
    assert [row["stream_id"] for row in outbox_rows(outbox)][-1] == "9999999999999-12"
    assert (report.confirmed, report.in_flight) == (2, 3), (
        f"{report}: only -8 and -9 were delivered; '9999999999999-10' sorts before "
        "'9999999999999-9' as text, so compare ids as (milliseconds, sequence) integers"
    )


# -- stage 2: lost entries, and the promise -------------------------------------------------


@pytest.mark.parametrize("loss", ["stream deleted", "group destroyed", "entry deleted"])
def test_lost_entries_are_published_again(outbox, streams, redis_space, open_redis, loss) -> None:
    ids = place_orders(outbox, 3)
    stream = streams("orders")

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, stream)
            await relay.relay_once()
            first_ids = [row["stream_id"] for row in outbox_rows(outbox)]
            if loss == "stream deleted":
                await redis.delete(stream)
            elif loss == "group destroyed":
                await redis.xgroup_destroy(stream, GROUP)
            else:
                await redis.xdel(stream, first_ids[1])
            report = await relay.relay_once()
            return first_ids, report, await stream_event_ids(redis, stream)

    first_ids, report, in_stream = run(main)
    expected = 1 if loss == "entry deleted" else 3
    assert report.republished == expected, f"after '{loss}': {report}"
    rows = outbox_rows(outbox)
    changed = [
        r["event_id"] for r, old in zip(rows, first_ids, strict=True) if r["stream_id"] != old
    ]
    assert len(changed) == expected, "a republished row records its new entry id"
    assert all(row["sent_at"] is None for row in rows)
    assert set(ids) <= set(in_stream), "every event is in the stream again"


def test_an_entry_id_taken_by_another_event_counts_as_lost(
    outbox, streams, redis_space, open_redis
) -> None:
    place_orders(outbox, 1)
    stream = streams("orders")

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, stream)
            await relay.relay_once()
            [row] = outbox_rows(outbox)
            # Redis restarted empty and another event got the very same id, then was consumed
            await redis.delete(stream)
            await redis.xadd(stream, {"event_id": "someone-else"}, id=row["stream_id"])
            await redis.xgroup_create(stream, GROUP, id="0")
            read = await redis.xreadgroup(GROUP, "c", {stream: ">"})
            await redis.xack(stream, GROUP, read[0][1][0][0])
            return await relay.relay_once()

    report = run(main)
    assert (report.republished, report.confirmed) == (1, 0), (
        f"{report}: the entry at that id is another event's; check the entry's event_id"
    )


@pytest.mark.timeout(120)
def test_the_promise_holds_when_redis_loses_everything(
    outbox, private_redis, open_redis, reference_consumer, effects_per_event
) -> None:
    """Published with the consumer down; Redis restarts empty; every effect exactly once."""
    early = place_orders(outbox, 20)
    clock = Clock()

    async def main():
        async with open_redis(private_redis.url) as redis:
            relay = make_relay(outbox, redis, "orders", clock=clock, recheck_seconds=5)
            consumer = reference_consumer(outbox, redis, "orders", GROUP)
            assert (await relay.relay_once()).published == 20
            await consumer.drain()  # the consumer handles the first 20 ...
            late = await asyncio.to_thread(place_orders, outbox, 10)
            assert (await relay.relay_once()).published == 10  # ... and is down for these 10
            await asyncio.to_thread(private_redis.restart)  # every stream and group is gone
            clock.advance(5)  # time for the relay to check on its 30 rows in flight
            report = await _until_it_works(relay.relay_once)
            assert (report.republished, report.confirmed) == (30, 0), (
                f"{report}: the relay must notice that all 30 entries are lost and publish "
                "them again; none of them is finished, since the group never acknowledged "
                "them as far as the relay could see"
            )
            await consumer.drain()  # the consumer comes back
            clock.advance(5)
            confirmed = (await relay.relay_once()).confirmed
            return late, confirmed, consumer.deliveries

    late, confirmed, deliveries = run(main)
    assert confirmed == 30, "once the group acknowledged them, all 30 rows are finished"
    assert all(row["sent_at"] is not None for row in outbox_rows(outbox))
    assert effects_per_event(outbox) == dict.fromkeys(early + late, 1), (
        "every accepted order has exactly one effect"
    )
    assert deliveries == 50, "the first 20 were delivered twice: only dedup keeps them single"


async def _until_it_works(step, seconds: float = DEADLINE):
    """Retries `step` while the client reconnects after the restart."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            return await step()
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


def test_marking_sent_on_xadd_would_break_the_promise(
    outbox, private_redis, open_redis, reference_consumer, effects_per_event
) -> None:
    ids = place_orders(outbox, 5)

    async def main():
        async with open_redis(private_redis.url) as redis:
            relay = make_relay(outbox, redis, "orders")
            await relay.relay_once()
            await relay.relay_once()  # a second pass right away changes nothing
            await asyncio.to_thread(private_redis.restart)
            await _until_it_works(relay.relay_once)
            await reference_consumer(outbox, redis, "orders", GROUP).drain()
            await relay.relay_once()

    run(main)
    assert effects_per_event(outbox) == dict.fromkeys(ids, 1), (
        "events XADDed and then lost with Redis must still reach the consumer"
    )


# -- stage 3: several relays, leases, the loop ----------------------------------------------


@pytest.mark.timeout(120)
def test_two_relays_at_once_lose_nothing_and_publish_nothing_twice(
    outbox, streams, redis_space, open_redis, reference_consumer, effects_per_event, eventually
) -> None:
    stream = streams("orders")
    first = place_orders(outbox, 100)
    more: list[str] = []

    async def main():
        async with open_redis(redis_space.url) as one, open_redis(redis_space.url) as two:
            relays = [
                make_relay(
                    outbox,
                    redis,
                    stream,
                    name=name,
                    batch_size=25,
                    poll_seconds=0.05,
                    recheck_seconds=0.3,
                )
                for name, redis in (("relay-a", one), ("relay-b", two))
            ]
            tasks = [asyncio.create_task(relay.run()) for relay in relays]
            writer = threading.Thread(target=lambda: more.extend(place_orders(outbox, 30)))
            writer.start()  # orders keep coming while both relays work
            try:
                await asyncio.to_thread(writer.join, 60)
                await eventually(lambda: all(r["stream_id"] for r in outbox_rows(outbox)), DEADLINE)
                published = await stream_event_ids(one, stream)
                consumer = reference_consumer(outbox, one, stream, GROUP)
                await consumer.drain()
                await eventually(lambda: all(r["sent_at"] for r in outbox_rows(outbox)), DEADLINE)
            finally:
                for relay in relays:
                    relay.stop()
                done, _ = await asyncio.wait(tasks, timeout=DEADLINE)
            assert len(done) == 2, "stop() makes run() return"
            for task in done:
                task.result()
            return published

    published = run(main)
    every = first + more
    twice = sorted({e for e in published if published.count(e) > 1})
    assert not twice, (
        f"{len(twice)} events were published twice by two relays running at once: claim rows "
        "with FOR UPDATE SKIP LOCKED and lease them, and skip rows another relay holds"
    )
    assert sorted(published) == sorted(every), "every row is published"
    assert effects_per_event(outbox) == dict.fromkeys(every, 1)


def test_rows_a_working_relay_holds_are_left_alone_until_it_gives_them_back(
    outbox, streams, redis_space, open_redis, eventually
) -> None:
    place_orders(outbox, 3)
    clock = Clock()
    stream = streams("orders")

    async def main():
        with _black_hole() as port:  # a "Redis" that never answers: relay A hangs in it
            async with (
                open_redis(redis_space.url) as good,
                open_redis(f"redis://127.0.0.1:{port}/0", socket_timeout=None) as hangs,
            ):
                a = make_relay(outbox, hangs, stream, clock=clock, lease_seconds=30, name="a")
                b = make_relay(outbox, good, stream, clock=clock, lease_seconds=30, name="b")
                working = asyncio.create_task(a.relay_once())
                await eventually(lambda: _leased_by(outbox, "a") == 3, DEADLINE)
                while_a_works = await b.relay_once()
                working.cancel()  # the service shuts down while relay A waits on Redis
                await asyncio.wait({working}, timeout=DEADLINE)
                leased_after_cancel = _leased_by(outbox, "a")
                after_a_stopped = await b.relay_once()
                return while_a_works, leased_after_cancel, after_a_stopped, working

    while_a_works, leased_after_cancel, after_a_stopped, working = run(main)
    assert while_a_works.claimed == 0, (
        "rows another relay has claimed are left alone: it may be publishing them right now "
        "(FOR UPDATE SKIP LOCKED for the claim, then the lease)"
    )
    assert working.cancelled(), "a cancelled pass lets the cancellation propagate"
    assert leased_after_cancel == 0, (
        "a relay cancelled mid-pass gives its rows back (clears its leases) before it goes, "
        "so the other relays need not wait for the lease to run out"
    )
    assert after_a_stopped.published == 3


def test_rows_of_a_relay_that_died_wait_for_its_lease_to_run_out(
    outbox, streams, redis_space, open_redis
) -> None:
    place_orders(outbox, 3)
    clock = Clock()
    with outbox.begin() as session:  # a relay claimed them, then its process was killed
        session.execute(
            text("UPDATE outbox SET lease_owner = 'killed', lease_until = :until"),
            {"until": clock() + timedelta(seconds=30)},
        )

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, streams("orders"), clock=clock)
            during = await relay.relay_once()
            clock.advance(30)
            after = await relay.relay_once()
            return during, after

    during, after = run(main)
    assert during.claimed == 0, "a lease holds until it runs out: that relay may still be alive"
    assert after.published == 3, "then another relay takes the rows over"


def _leased_by(sessions, name: str) -> int:
    with sessions.begin() as session:
        return int(
            session.scalar(text("SELECT count(*) FROM outbox WHERE lease_owner = :n"), {"n": name})
        )


@contextlib.contextmanager
def _black_hole():
    """A port that accepts connections and never answers."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_run_publishes_on_wake_and_stops_on_request(
    outbox, streams, redis_space, open_redis, eventually
) -> None:
    stream = streams("orders")

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, stream, poll_seconds=60)
            task = asyncio.create_task(relay.run())
            try:
                await asyncio.sleep(0)
                await asyncio.to_thread(place_orders, outbox, 2)
                relay.wake()  # a commit just added rows: do not wait a minute for the poll
                await eventually(lambda: _stream_length(redis, stream), DEADLINE)
                await asyncio.to_thread(place_orders, outbox, 1)
                relay.stop()
                done, _ = await asyncio.wait({task}, timeout=DEADLINE)
                assert done, "stop() makes run() return without waiting for the poll"
                task.result()
            finally:
                task.cancel()
            return await redis.xlen(stream)

    assert run(main) == 3, "stop() makes one last pass: rows committed before it go out"


async def _stream_length(redis, stream: str) -> int:
    return await redis.xlen(stream)


def test_run_survives_redis_being_away(outbox, private_redis, open_redis, eventually) -> None:
    async def main():
        async with open_redis(private_redis.url) as redis:
            relay = make_relay(outbox, redis, "orders", poll_seconds=0.05)
            task = asyncio.create_task(relay.run())
            try:
                await asyncio.to_thread(private_redis.stop)
                await asyncio.to_thread(place_orders, outbox, 2)
                await eventually(lambda: _claimed(outbox), DEADLINE)  # a pass that failed
                assert not task.done(), "a relay whose Redis is away keeps trying"
                await asyncio.to_thread(private_redis.start)
                await eventually(lambda: _length_or_zero(redis, "orders"), DEADLINE)
            finally:
                task.cancel()
                await asyncio.wait({task}, timeout=DEADLINE)
            with pytest.raises(asyncio.CancelledError):
                task.result()

    run(main)


def _claimed(sessions) -> bool:
    with sessions.begin() as session:
        return bool(
            session.scalar(text("SELECT count(*) FROM outbox WHERE lease_owner IS NOT NULL"))
        )


async def _length_or_zero(redis, stream: str) -> int:
    try:
        return await redis.xlen(stream)
    except Exception:
        return 0


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("batch_size", 0),
        ("lease_seconds", 0),
        ("poll_seconds", 0),
        ("recheck_seconds", -1),
        ("max_entries", 0),
    ],
)
def test_a_bad_configuration_is_refused(option, value) -> None:
    with pytest.raises(ValueError, match=option):
        relay_module.OutboxRelay(
            sessions=None, redis=None, stream="s", group="g", **{option: value}
        )


# -- stage 4: headers, hooks, and a full stream ------------------------------------------------


def test_headers_travel_beside_the_event_and_cannot_replace_its_fields(
    outbox, streams, redis_space, open_redis
) -> None:
    event_id = str(uuid.uuid4())
    with outbox.begin() as session:
        relay_module.add_to_outbox(
            session,
            event_id=event_id,
            type="order.placed",
            body=b"{}",
            headers={"traceparent": "00-abc-def-01", "request_id": "r-1"},
        )
    for name in ("event_id", "type", "event"):
        with pytest.raises(ValueError, match=name), outbox.begin() as session:
            relay_module.add_to_outbox(
                session, event_id=uuid.uuid4(), type="order.placed", body=b"{}", headers={name: "x"}
            )

    async def main():
        async with open_redis(redis_space.url) as redis:
            await make_relay(outbox, redis, streams("orders")).relay_once()
            return await redis.xrange(streams("orders"))

    [(_, fields)] = run(main)
    assert fields == {
        b"event_id": event_id.encode(),
        b"type": b"order.placed",
        b"event": b"{}",
        b"traceparent": b"00-abc-def-01",
        b"request_id": b"r-1",
    }, "the stored headers are more fields of the entry"


class Recorder(relay_module.RelayHooks):
    """Hooks that add a field to every entry and remember what they saw."""

    def __init__(self) -> None:
        self.before: list[tuple[str, str | None]] = []
        self.published_ids: list[tuple[str, str]] = []
        self.reports: list = []

    def before_publish(self, message):
        self.before.append((message.event_id, message.stream_id))
        return {"traceparent": f"span-of-{message.event_id}", "event_id": "forged"}

    def published(self, message, entry_id):
        self.published_ids.append((message.event_id, entry_id))

    def passed(self, report):
        self.reports.append(report)


def test_hooks_see_each_publication_and_each_pass(outbox, streams, redis_space, open_redis):
    ids = []
    for _ in range(2):
        event_id = str(uuid.uuid4())
        with outbox.begin() as session:
            relay_module.add_to_outbox(
                session,
                event_id=event_id,
                type="order.placed",
                body=b"{}",
                headers={"traceparent": "from-the-request"},
            )
        ids.append(event_id)
    hooks = Recorder()
    stream = streams("orders")

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, stream, hooks=hooks)
            first = await relay.relay_once()
            entries = await redis.xrange(stream)
            await redis.xdel(stream, entries[1][0])  # lost: published again
            second = await relay.relay_once()
            return first, second, entries, await redis.xrange(stream)

    first, second, entries, after = run(main)
    assert [f[b"traceparent"] for _, f in entries] == [f"span-of-{i}".encode() for i in ids], (
        "before_publish's fields go into the entry, over the row's own headers"
    )
    assert [f[b"event_id"] for _, f in entries] == [i.encode() for i in ids], (
        "a hook cannot replace the entry's own fields"
    )
    first_entries = [entry_id.decode() for entry_id, _ in entries]
    republished = after[-1][0].decode()
    assert hooks.published_ids == [*zip(ids, first_entries, strict=True), (ids[1], republished)], (
        "published() gets each event with the entry id XADD answered, the republished one too"
    )
    assert hooks.before[2] == (ids[1], first_entries[1]), (
        "a republished message still has the entry id it had: the hook can tell it apart"
    )
    assert hooks.reports == [first, second], "passed() gets every pass's report"


async def _consume(redis, stream: str, count: int) -> int:
    """What the notifier does: read with the group, then acknowledge."""
    reply = await redis.xreadgroup(GROUP, "c1", {stream: ">"}, count=count)
    ids = [entry_id for _, entries in reply or [] for entry_id, _ in entries]
    if ids:
        await redis.xack(stream, GROUP, *ids)
    return len(ids)


def test_a_full_stream_holds_rows_back_and_is_trimmed_only_of_acknowledged_entries(
    outbox, streams, redis_space, open_redis
) -> None:
    ids = place_orders(outbox, 5)
    stream = streams("orders")

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, stream, max_entries=3, batch_size=2)
            passes = [await relay.relay_once() for _ in range(2)]
            full = (await redis.xlen(stream), relay.paused)
            assert await _consume(redis, stream, 2) == 2  # the notifier catches up a little
            for _ in range(4):
                await relay.relay_once()
            after = (await redis.xlen(stream), relay.paused)
            assert await _consume(redis, stream, 10) == 3
            for _ in range(4):
                await relay.relay_once()
            return passes, full, after, await redis.xlen(stream)

    passes, full, after, left = run(main)
    assert [(p.published, p.held, p.stream_length) for p in passes] == [(2, 0, 0), (1, 1, 2)], (
        f"the stream takes no more than max_entries, and the rest waits in the outbox: {passes}"
    )
    assert full == (3, True), "full: the relay is paused, nothing was trimmed or dropped"
    assert after == (3, False), (
        "the two acknowledged entries were trimmed, and the last two rows published in the room"
    )
    assert left == 0, "once every row is finished, the relay trims every entry"
    rows = outbox_rows(outbox)
    assert [row["event_id"] for row in rows] == ids
    assert all(row["sent_at"] is not None for row in rows), "every event got through, once"


def test_a_paused_relay_checks_its_rows_in_flight_first(
    outbox, streams, redis_space, open_redis
) -> None:
    """Unpublished rows come first, so a full batch of them would starve the rows in flight:
    their acknowledgements, the only way out of a full stream, would never be seen."""
    place_orders(outbox, 6)
    stream = streams("orders")

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, stream, max_entries=2, batch_size=2)
            await relay.relay_once()  # two published: the stream is full
            held = await relay.relay_once()  # two more claimed, held back
            assert await _consume(redis, stream, 10) == 2
            unblocked = await relay.relay_once()
            return held, unblocked, await redis.xlen(stream)

    held, unblocked, length = run(main)
    assert held.held == 2, held
    assert unblocked.confirmed == 2, (
        f"{unblocked}: while paused, claim the rows in flight first (ORDER BY stream_id IS NULL)"
    )
    assert length == 0, "their entries were trimmed: room again"


def test_an_acknowledged_entry_is_kept_until_its_row_is_finished(
    outbox, streams, redis_space, open_redis
) -> None:
    """The group may acknowledge an entry long before a pass checks its row (one batch at a
    time, rows committed out of id order, a republished row's new entry). Trimming below the
    group's progress alone would remove such an entry: its row would then look lost and go
    out again, a storm of duplicates under load. Keep every entry from the smallest one of
    an unfinished row."""
    place_orders(outbox, 2)
    stream = streams("orders")
    clock = Clock()

    async def main():
        async with open_redis(redis_space.url) as redis:
            relay = make_relay(outbox, redis, stream, clock=clock, batch_size=1)
            await relay.relay_once()
            await relay.relay_once()  # both published; the relay checks one row per pass
            assert await _consume(redis, stream, 10) == 2
            clock.advance(1)
            passes = [await relay.relay_once() for _ in range(3)]
            return passes, await redis.xlen(stream)

    passes, length = run(main)
    assert sum(p.republished for p in passes) == 0, (
        f"{passes}: keep every entry from the smallest one of an unfinished row"
    )
    assert sum(p.confirmed for p in passes) == 2
    assert length == 0

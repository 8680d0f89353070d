"""07.3 — a Redis Streams consumer group: read, ack, inspect pending, reclaim with XAUTOCLAIM."""

from __future__ import annotations

import time

import pytest

from journey.targets import load

stream_group = load(__file__, "stream_group")


class ConsumerDied(Exception):
    """Raised by a handler to stop its consumer in the middle of a batch."""


def make_group(redis_space, entries: int = 0):
    group = stream_group.StreamGroup(redis_space.client, redis_space.key("orders"), "billing")
    group.create()
    ids = [group.add({"n": str(n)}) for n in range(entries)]
    return group, ids


def until(condition, seconds: float = 10.0):
    """Polls condition() until it returns something truthy (then returns it), or fails."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds} s")
        time.sleep(0.01)
    return value


def test_create_is_idempotent_and_starts_at_the_beginning(redis_space) -> None:
    stream = redis_space.key("orders")
    redis_space.client.xadd(stream, {"n": "early"})  # written before the group exists
    group = stream_group.StreamGroup(redis_space.client, stream, "billing")
    group.create()
    group.create()  # BUSYGROUP must not escape
    entries = group.read("c1", count=10)
    assert [e.fields for e in entries] == [{"n": "early"}], (
        "create the group at id '0': entries written before the group exists are read too"
    )


def test_create_makes_the_stream_when_missing(redis_space) -> None:
    group, _ = make_group(redis_space)
    assert group.read("c1", count=10) == [], "an empty stream reads as an empty list"


def test_each_entry_goes_to_one_consumer_of_the_group(redis_space) -> None:
    group, ids = make_group(redis_space, entries=6)
    first = group.read("c1", count=4)
    second = group.read("c2", count=10)
    assert ([e.id for e in first], [e.id for e in second]) == (ids[:4], ids[4:]), (
        "a group hands each entry to exactly one of its consumers, in order"
    )
    assert first[0] == stream_group.Entry(id=ids[0], fields={"n": "0"})


def test_read_entries_stay_pending_until_acknowledged(redis_space) -> None:
    group, ids = make_group(redis_space, entries=5)
    group.read("c1", count=3)
    group.read("c2", count=1)
    assert group.pending() == stream_group.Pending(count=4, per_consumer={"c1": 3, "c2": 1})
    assert group.ack(ids[0], ids[1]) == 2, "ack returns how many were pending"
    assert group.ack(ids[0]) == 0, "acknowledging twice does nothing the second time"
    assert group.ack() == 0, "nothing to acknowledge, nothing done"
    assert group.pending() == stream_group.Pending(count=2, per_consumer={"c1": 1, "c2": 1})


def test_pending_of_a_quiet_group_is_empty(redis_space) -> None:
    group, _ = make_group(redis_space, entries=2)
    assert group.pending() == stream_group.Pending(count=0, per_consumer={})


def test_a_restarted_consumer_rereads_its_own_pending_entries(redis_space) -> None:
    group, ids = make_group(redis_space, entries=4)
    group.read("c1", count=3)
    group.ack(ids[1])
    again = group.read_own_pending("c1")
    assert [e.id for e in again] == [ids[0], ids[2]], (
        "reading from id '0' returns what this consumer was given and did not acknowledge"
    )
    assert group.read_own_pending("c2") == [], "another consumer's entries are not yours"
    assert [e.id for e in group.read("c1")] == [ids[3]], "'>' still gives only new entries"


def test_process_acknowledges_each_entry_after_its_handler(redis_space) -> None:
    group, ids = make_group(redis_space, entries=5)
    seen: list[str] = []

    def handler(entry) -> None:
        pending_now = group.pending().count
        seen.append(entry.fields["n"])
        # entries handled before this one are acknowledged already, this one not yet
        assert pending_now == 5 - len(seen) + 1, "acknowledge each entry right after its handler"

    assert group.process("c1", handler, count=10) == ids
    assert seen == ["0", "1", "2", "3", "4"]
    assert group.pending().count == 0


def test_a_consumer_that_dies_mid_batch_loses_nothing(redis_space) -> None:
    group, ids = make_group(redis_space, entries=10)
    processed: list[str] = []

    def dies_on_the_fifth(entry) -> None:
        if len(processed) == 4:
            raise ConsumerDied
        processed.append(entry.id)

    with pytest.raises(ConsumerDied):
        group.process("worker-a", dies_on_the_fifth, count=10)
    assert processed == ids[:4]
    assert group.pending() == stream_group.Pending(count=6, per_consumer={"worker-a": 6}), (
        "the dead consumer's unfinished entries must stay pending: acknowledge only what "
        "was handled, never the batch up front"
    )
    assert group.read("worker-b", count=10) == [], "pending entries are not new entries"

    # worker-b takes over what has been idle long enough, then finishes it
    claimed = until(lambda: group.claim_stale("worker-b", min_idle_ms=50, count=2))
    for entry in claimed:
        processed.append(entry.id)
        group.ack(entry.id)
    assert sorted(processed) == sorted(ids), (
        f"every entry processed once the dead consumer's share was claimed; missing "
        f"{sorted(set(ids) - set(processed))} (follow XAUTOCLAIM's cursor until it is 0-0)"
    )
    assert len(processed) == len(set(processed)) == 10
    assert group.pending().count == 0


def test_claim_leaves_entries_that_are_not_idle_long_enough(redis_space) -> None:
    group, _ = make_group(redis_space, entries=3)
    group.read("alive", count=3)
    assert group.claim_stale("thief", min_idle_ms=60_000) == [], (
        "a consumer that is merely busy keeps its entries: claim only those idle long enough"
    )
    assert group.pending().per_consumer == {"alive": 3}


def test_claim_follows_the_cursor_over_many_pages(redis_space) -> None:
    group, ids = make_group(redis_space, entries=25)
    group.read("dead", count=25)
    claimed = until(lambda: group.claim_stale("heir", min_idle_ms=20, count=4))
    assert [e.id for e in claimed] == ids, "25 entries at 4 a page: keep going until 0-0"
    assert group.pending().per_consumer == {"heir": 25}


def test_claim_skips_entries_deleted_while_pending(redis_space) -> None:
    group, ids = make_group(redis_space, entries=3)
    group.read("dead", count=3)
    redis_space.client.xdel(group.stream, ids[1])
    claimed = until(lambda: group.claim_stale("heir", min_idle_ms=20))
    assert [e.id for e in claimed] == [ids[0], ids[2]], "a deleted entry has nothing to process"

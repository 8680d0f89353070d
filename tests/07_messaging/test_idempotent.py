"""07.5 — an idempotent consumer: the id and the effect in one PostgreSQL transaction."""

from __future__ import annotations

import random
import threading

import psycopg
import pytest

from journey.targets import load

idempotent = load(__file__, "idempotent")

CONSUMER = "billing"


@pytest.fixture
def ledger(pg_conn: psycopg.Connection) -> psycopg.Connection:
    """processed_messages plus a table the effects write to."""
    pg_conn.execute(idempotent.SCHEMA_SQL)
    pg_conn.execute("CREATE TABLE credits (message_id text NOT NULL, amount int NOT NULL)")
    return pg_conn


def credit(message_id: str, amount: int = 10):
    def effect(conn: psycopg.Connection) -> None:
        conn.execute("INSERT INTO credits VALUES (%s, %s)", (message_id, amount))

    return effect


def credits(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT message_id, count(*) FROM credits GROUP BY message_id")
    return dict(rows.fetchall())


def test_create_schema_makes_the_table_and_can_run_twice(pg_conn) -> None:
    idempotent.create_schema(pg_conn)
    idempotent.create_schema(pg_conn)
    columns = pg_conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'processed_messages' AND table_schema = current_schema() "
        "ORDER BY ordinal_position"
    ).fetchall()
    assert [c[0] for c in columns] == ["consumer", "message_id", "processed_at"]


def test_a_message_delivered_twice_has_its_effect_once(ledger) -> None:
    assert idempotent.process_once(ledger, CONSUMER, "m-1", credit("m-1")) is True
    assert idempotent.process_once(ledger, CONSUMER, "m-1", credit("m-1")) is False, (
        "the second delivery is a duplicate: process_once returns False and does nothing"
    )
    assert credits(ledger) == {"m-1": 1}
    assert idempotent.already_processed(ledger, CONSUMER, "m-1")
    assert not idempotent.already_processed(ledger, CONSUMER, "m-2")


def test_every_message_twice_in_any_order_gives_each_effect_once(ledger) -> None:
    deliveries = [f"m-{n}" for n in range(30)] * 2
    random.Random(3).shuffle(deliveries)
    ran = [idempotent.process_once(ledger, CONSUMER, m, credit(m)) for m in deliveries]
    assert sum(ran) == 30, "30 distinct messages, 30 effects"
    assert credits(ledger) == {f"m-{n}": 1 for n in range(30)}


def test_each_consumer_processes_a_message_once_for_itself(ledger) -> None:
    assert idempotent.process_once(ledger, "billing", "m-1", credit("m-1"))
    assert idempotent.process_once(ledger, "shipping", "m-1", credit("m-1")), (
        "dedup is per consumer: another consumer has its own effect to make"
    )
    assert credits(ledger) == {"m-1": 2}


def test_an_effect_that_fails_is_not_recorded_and_runs_again(ledger) -> None:
    def half_then_fail(conn: psycopg.Connection) -> None:
        conn.execute("INSERT INTO credits VALUES ('m-1', 10)")
        raise ConnectionError("the bank did not answer")

    with pytest.raises(ConnectionError):
        idempotent.process_once(ledger, CONSUMER, "m-1", half_then_fail)
    assert credits(ledger) == {}, "a failed effect leaves nothing behind (one transaction)"
    assert not idempotent.already_processed(ledger, CONSUMER, "m-1"), (
        "the id must not be recorded when the effect failed: record it in the same "
        "transaction as the effect, or the redelivery will skip it and the effect is lost"
    )
    assert idempotent.process_once(ledger, CONSUMER, "m-1", credit("m-1")) is True
    assert credits(ledger) == {"m-1": 1}


def test_an_empty_message_id_is_refused(ledger) -> None:
    with pytest.raises(ValueError, match="message_id"):
        idempotent.process_once(ledger, CONSUMER, "", credit("x"))
    assert credits(ledger) == {}


def test_copies_processed_at_the_same_moment_have_one_effect(ledger, fast_postgres_url) -> None:
    messages = [f"m-{n}" for n in range(12)]
    results: dict[str, list[bool]] = {m: [] for m in messages}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def slow_credit(message_id: str):
        def effect(conn: psycopg.Connection) -> None:
            # a slow effect keeps the first transaction open while the copy arrives
            conn.execute("SELECT pg_sleep(0.02)")
            conn.execute("INSERT INTO credits VALUES (%s, 10)", (message_id,))

        return effect

    def deliver_all() -> None:
        try:
            with psycopg.connect(fast_postgres_url, autocommit=True) as conn:
                start.wait(timeout=10)
                for message_id in messages:
                    ran = idempotent.process_once(
                        conn, CONSUMER, message_id, slow_credit(message_id)
                    )
                    results[message_id].append(ran)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=deliver_all) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "two concurrent deliveries hang"
    assert not errors, (
        f"a concurrent duplicate failed with {errors[0]!r}: insert the id with "
        "ON CONFLICT DO NOTHING, the second copy waits for the first and then does nothing"
    )
    assert credits(ledger) == dict.fromkeys(messages, 1), (
        "two copies delivered at once both ran the effect: checking first and inserting "
        "later lets both see 'not yet'; insert the id first, in the effect's transaction"
    )
    assert all(sorted(ran) == [False, True] for ran in results.values()), results

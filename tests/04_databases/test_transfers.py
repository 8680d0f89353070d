"""04.5 — an atomic money transfer that stays correct under concurrent transfers."""

from __future__ import annotations

import random
import threading
import time

import psycopg
import pytest

from journey.targets import load

transfers = load(__file__, "transfers")

START = {"alice": 100, "bob": 100, "carol": 100, "dave": 100}


def open_accounts(conn: psycopg.Connection, balances: dict[str, int] = START) -> None:
    conn.execute(transfers.SCHEMA_SQL)
    for account_id, amount in balances.items():
        transfers.open_account(conn, account_id, amount)


def balances(conn: psycopg.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT id, balance FROM accounts ORDER BY id").fetchall())


def test_a_transfer_moves_money(pg_conn: psycopg.Connection) -> None:
    open_accounts(pg_conn)
    transfers.transfer(pg_conn, "alice", "bob", 30)
    assert transfers.balance(pg_conn, "alice") == 70, "the source is debited"
    assert transfers.balance(pg_conn, "bob") == 130, "the target is credited"
    assert transfers.total(pg_conn) == 400, "money moves, it is never created or lost"


def test_the_whole_balance_can_be_sent(pg_conn: psycopg.Connection) -> None:
    open_accounts(pg_conn)
    transfers.transfer(pg_conn, "alice", "bob", 100)
    assert balances(pg_conn)["alice"] == 0, "sending exactly the balance leaves 0"


def test_insufficient_funds_raise_and_change_nothing(pg_conn: psycopg.Connection) -> None:
    open_accounts(pg_conn)
    with pytest.raises(transfers.InsufficientFunds):
        transfers.transfer(pg_conn, "alice", "bob", 101)
    assert balances(pg_conn) == START, "a refused transfer changes no balance"


@pytest.mark.parametrize(("source", "target"), [("alice", "zed"), ("zed", "alice")])
def test_an_unknown_account_raises_and_changes_nothing(
    pg_conn: psycopg.Connection, source: str, target: str
) -> None:
    open_accounts(pg_conn)
    with pytest.raises(transfers.UnknownAccount):
        transfers.transfer(pg_conn, source, target, 10)
    assert balances(pg_conn) == START, (
        "a transfer that fails half way must roll back: do both updates in one transaction"
    )
    with pytest.raises(transfers.UnknownAccount):
        transfers.balance(pg_conn, "zed")


FREEZE_SQL = """
CREATE FUNCTION refuse_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'account % is frozen', NEW.id;
END $$;
CREATE TRIGGER frozen BEFORE UPDATE ON accounts
    FOR EACH ROW WHEN (NEW.id = 'frozen') EXECUTE FUNCTION refuse_frozen();
"""


@pytest.mark.parametrize(("source", "target"), [("alice", "frozen"), ("frozen", "alice")])
def test_a_transfer_that_fails_half_way_changes_nothing(
    pg_conn: psycopg.Connection, source: str, target: str
) -> None:
    # a trigger makes the database refuse any UPDATE of the "frozen" account; whichever of the
    # two updates comes second fails after the first one has already run
    open_accounts(pg_conn, {**START, "frozen": 100})
    pg_conn.execute(FREEZE_SQL)
    with pytest.raises(psycopg.Error) as refused:
        transfers.transfer(pg_conn, source, target, 10)
    assert "frozen" in str(refused.value), "the database's own error reaches the caller"
    assert balances(pg_conn) == {**START, "frozen": 100}, (
        "the second update failed, so the first must be undone: run the locks, the check and "
        "both updates inside one transaction (with conn.transaction(): ...)"
    )


@pytest.mark.parametrize(
    ("source", "target", "amount", "message"),
    [
        ("alice", "bob", 0, "positive"),
        ("alice", "bob", -5, "positive"),
        ("alice", "alice", 10, "different"),
    ],
)
def test_bad_transfers_are_value_errors(
    pg_conn: psycopg.Connection, source: str, target: str, amount: int, message: str
) -> None:
    open_accounts(pg_conn)
    with pytest.raises(ValueError, match=message):
        transfers.transfer(pg_conn, source, target, amount)
    assert balances(pg_conn) == START


def test_opening_an_account_with_a_negative_balance_is_refused(pg_conn: psycopg.Connection) -> None:
    pg_conn.execute(transfers.SCHEMA_SQL)
    with pytest.raises(ValueError, match="negative"):
        transfers.open_account(pg_conn, "alice", -1)
    assert transfers.total(pg_conn) == 0, "no account, no money"


def test_opening_an_account_with_nothing_in_it_is_fine(pg_conn: psycopg.Connection) -> None:
    pg_conn.execute(transfers.SCHEMA_SQL)
    transfers.open_account(pg_conn, "alice")
    transfers.open_account(pg_conn, "bob", 0)
    assert balances(pg_conn) == {"alice": 0, "bob": 0}, "a balance of 0 is allowed (the default)"


class Interleaving:
    """Runs transfers on threads, each on its own connection, while *blocker* transactions hold
    row locks. Each step waits until every running transfer is blocked by a lock (or done)
    before it goes on, so the order in which the transfers reach each row is forced, not left
    to luck."""

    def __init__(self, pg_conn: psycopg.Connection, url: str, *held: list[str]) -> None:
        self.pg_conn = pg_conn
        self.url = url
        self.blockers: list[psycopg.Connection] = []
        for accounts in held:
            blocker = psycopg.connect(url)  # not autocommit: its row locks stay held
            blocker.execute("SELECT id FROM accounts WHERE id = ANY(%s) FOR UPDATE", (accounts,))
            self.blockers.append(blocker)
        self.threads: dict[str, tuple[threading.Thread, int]] = {}
        self.outcomes: dict[str, str] = {}

    def start(self, name: str, source: str, target: str, amount: int) -> None:
        """Starts a transfer and returns once it waits for a lock (or has finished)."""
        conn = psycopg.connect(self.url, autocommit=True)

        def run() -> None:
            try:
                transfers.transfer(conn, source, target, amount)
                self.outcomes[name] = "done"
            except BaseException as error:
                self.outcomes[name] = type(error).__name__
            finally:
                conn.close()

        thread = threading.Thread(target=run, name=name)
        self.threads[name] = (thread, conn.info.backend_pid)
        thread.start()
        self._settle()

    def release(self, index: int) -> None:
        """Ends blocker ``index`` and returns once every transfer has moved on from it."""
        blocker = self.blockers[index]
        released = blocker.info.backend_pid
        blocker.rollback()
        self._settle(not_by=released)

    def finish(self) -> None:
        """Ends every blocker and waits for every transfer."""
        for blocker in self.blockers:
            blocker.rollback()
        for thread, _ in self.threads.values():
            thread.join(timeout=20)
        assert not any(t.is_alive() for t, _ in self.threads.values()), "a transfer hangs"

    def close(self) -> None:
        for blocker in self.blockers:
            blocker.close()
        for thread, _ in self.threads.values():
            thread.join(timeout=20)

    def _settle(self, not_by: int | None = None) -> None:
        deadline = time.monotonic() + 10
        while not all(
            name in self.outcomes or self._blocked(pid, not_by)
            for name, (_, pid) in self.threads.items()
        ):
            assert time.monotonic() < deadline, "a transfer neither finished nor waited"
            time.sleep(0.01)

    def _blocked(self, pid: int, not_by: int | None) -> bool:
        """Whether ``pid`` waits for a lock, and (with ``not_by``) not for that backend's."""
        row = self.pg_conn.execute("SELECT pg_blocking_pids(%s)", (pid,)).fetchone()
        blocking = row[0] if row else []
        return bool(blocking) and not_by not in blocking


def test_the_balance_is_checked_under_a_row_lock(
    pg_conn: psycopg.Connection, postgres_url: str
) -> None:
    # alice holds 100 and two transfers want to send all of it. The blocker holds bob and
    # carol, so the first transfer stops half way (it waits for bob); then the second one
    # starts, and reads alice's balance while the first is not committed yet.
    open_accounts(pg_conn)
    run = Interleaving(pg_conn, postgres_url, ["bob", "carol"])
    try:
        run.start("first", "alice", "bob", 100)
        run.start("second", "alice", "carol", 100)
        run.finish()
    finally:
        run.close()
    final = balances(pg_conn)
    assert final["alice"] >= 0, (
        f"alice's 100 was spent twice, her balance is {final['alice']}: the second transfer "
        "checked a balance the first one was about to change. Read the balances with "
        "SELECT ... FOR UPDATE: the second transfer then waits, and sees 0 once it may go on"
    )
    assert sum(final.values()) == 400, f"the total changed: {final}"
    assert sorted(run.outcomes.values()) == ["InsufficientFunds", "done"], (
        f"one transfer succeeds and the other finds too little money: {run.outcomes}"
    )


def test_opposite_transfers_do_not_deadlock(pg_conn: psycopg.Connection, postgres_url: str) -> None:
    # One blocker holds alice, another bob. alice->bob and bob->alice start while both are
    # held. When alice is let go, whoever gets her waits for bob; when bob is let go, he goes
    # to whoever asked for him first. A transfer that locks "its" source first thus ends up
    # holding the row the other one needs: a deadlock, which PostgreSQL breaks by aborting one.
    open_accounts(pg_conn)
    run = Interleaving(pg_conn, postgres_url, ["alice"], ["bob"])
    try:
        run.start("a->b", "alice", "bob", 10)
        run.start("b->a", "bob", "alice", 20)
        run.release(0)
        run.finish()
    finally:
        run.close()
    assert run.outcomes == {"a->b": "done", "b->a": "done"}, (
        f"outcomes {run.outcomes}: two opposite transfers must both succeed. A deadlock means "
        "they locked the same two rows in opposite orders: lock both accounts in one "
        "consistent order (SELECT ... WHERE id = ANY(%s) ORDER BY id FOR UPDATE)"
    )
    assert balances(pg_conn) == {**START, "alice": 110, "bob": 90}


def test_concurrent_transfers_keep_every_invariant(
    pg_conn: psycopg.Connection, postgres_url: str
) -> None:
    open_accounts(pg_conn)
    accounts = sorted(START)
    workers, per_worker = 8, 25  # 200 transfers in all
    rng = random.Random(4)
    plans = [
        [(*rng.sample(accounts, 2), rng.randint(1, 60)) for _ in range(per_worker)]
        for _ in range(workers)
    ]
    refused = [0] * workers
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def work(index: int) -> None:
        try:
            with psycopg.connect(postgres_url, autocommit=True) as conn:
                start.wait(timeout=10)  # all threads begin together to collide as much as possible
                for source, target, amount in plans[index]:
                    try:
                        transfers.transfer(conn, source, target, amount)
                    except transfers.InsufficientFunds:
                        refused[index] += 1
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "transfers hang: look for a lock never released"
    assert not errors, (
        f"concurrent transfers failed with {errors[0]!r}; a deadlock means two transfers locked "
        "the same rows in opposite orders: lock both accounts in one consistent order (by id)"
    )
    final = balances(pg_conn)
    assert sum(final.values()) == 400, f"the total changed under concurrency: {final}"
    assert all(value >= 0 for value in final.values()), (
        f"a balance went negative: {final}; check the balance while holding a row lock "
        "(SELECT ... FOR UPDATE) so no other transfer spends the same money in between"
    )
    assert sum(refused) < workers * per_worker, "most transfers should succeed"

"""05.2 TicketOffice: a check-then-act between threads, made safe with a lock."""

from __future__ import annotations

import threading
import time

import pytest

from journey.targets import load

ticket_office = load(__file__, "ticket_office")
TicketOffice = ticket_office.TicketOffice

PAYMENT_SECONDS = 0.05  # a slow payment service: time.sleep releases the GIL, as real I/O does


class Payments:
    """The payment service: records every charge, takes a while, and can refuse cards."""

    def __init__(self, seconds: float = PAYMENT_SECONDS, refuse: str | None = None) -> None:
        self.seconds = seconds
        self.refuse = refuse
        self.charged: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def __call__(self, customer: str, count: int) -> None:
        time.sleep(self.seconds)
        if customer == self.refuse:
            raise PermissionError(f"card of {customer} refused")
        with self._lock:
            self.charged.append((customer, count))


def run_buyers(office, buyers: list[tuple[str, int]]) -> dict[str, object]:
    """Every buyer on its own thread, all released at once; what each call returned or raised."""
    start = threading.Barrier(len(buyers))
    outcomes: dict[str, object] = {}

    def buy(name: str, count: int) -> None:
        start.wait(timeout=5)
        try:
            outcomes[name] = office.buy(name, count)
        except BaseException as error:
            outcomes[name] = error

    threads = [threading.Thread(target=buy, args=buyer, daemon=True) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in threads), "a buyer never came back: is a lock held?"
    return outcomes


def test_a_buyer_pays_and_gets_the_seats() -> None:
    payments = Payments(seconds=0)
    office = TicketOffice(3, payments)
    assert office.buy("ann", 2) is True
    assert office.left == 1
    assert office.sold() == {"ann": 2}
    assert payments.charged == [("ann", 2)], "the buyer is charged once, for the seats taken"
    assert office.buy("ann") is True, "count defaults to 1"
    assert office.sold() == {"ann": 3}, "sold() adds up a customer's seats"


def test_too_few_seats_means_no_sale_and_no_charge() -> None:
    payments = Payments(seconds=0)
    office = TicketOffice(2, payments)
    assert office.buy("ann", 3) is False, "3 seats cannot come out of 2"
    assert office.buy("bob", 2) is True, "exactly the seats left is fine"
    assert office.buy("cid") is False, "a sold-out show sells nothing"
    assert payments.charged == [("bob", 2)], "nobody is charged for seats they do not get"
    assert office.left == 0


def test_a_sold_out_show_is_allowed() -> None:
    office = TicketOffice(0, Payments(seconds=0))
    assert office.left == 0
    assert office.buy("ann") is False


def test_eight_buyers_for_the_last_seat_one_gets_it() -> None:
    payments = Payments()
    office = TicketOffice(1, payments)
    outcomes = run_buyers(office, [(f"buyer{i}", 1) for i in range(8)])
    winners = [name for name, got in outcomes.items() if got is True]
    assert len(winners) == 1, (
        f"{len(winners)} buyers got the one seat, and {len(payments.charged)} paid for it: "
        "several threads saw it free before any took it. Hold one threading.Lock across the "
        "check, the charge and the taking of the seat"
    )
    assert office.left == 0, f"seats left: {office.left} (a seat sold twice makes this negative)"
    assert [name for name, _ in payments.charged] == winners, "only the winner paid"
    assert office.sold() == {winners[0]: 1}


def test_many_buyers_many_seats_every_seat_sold_once() -> None:
    payments = Payments(seconds=0.002)
    office = TicketOffice(30, payments)
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def keep_buying(name: str) -> None:
        start.wait(timeout=5)
        for _ in range(10):
            got = office.buy(name)
            with lock:
                results.append(got)

    threads = [threading.Thread(target=keep_buying, args=(f"b{i}",), daemon=True) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results.count(True) == 30, f"30 seats, {results.count(True)} sales"
    assert office.left == 0
    assert sum(office.sold().values()) == 30
    assert len(payments.charged) == 30, "30 sales, 30 payments"


def test_a_refused_card_takes_no_seat_and_the_office_goes_on() -> None:
    payments = Payments(seconds=0, refuse="mallory")
    office = TicketOffice(1, payments)
    with pytest.raises(PermissionError):
        office.buy("mallory")
    assert office.left == 1, "a failed payment takes no seat"
    assert office.sold() == {}
    outcome = run_buyers(office, [("ann", 1)])  # on a thread, so a lock never released shows
    assert outcome == {"ann": True}, (
        f"after a failed payment the next buyer got {outcome['ann']!r}: release the lock even "
        "when charge raises (use `with lock:`)"
    )


def test_sold_is_a_copy() -> None:
    office = TicketOffice(2, Payments(seconds=0))
    office.buy("ann")
    office.sold()["ann"] = 99
    assert office.sold() == {"ann": 1}, "changing what sold() returned changes nothing"


@pytest.mark.parametrize(("seats", "count"), [(-1, 1), (5, 0), (5, -2)])
def test_bad_numbers_are_rejected(seats: int, count: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the type is the contract
        TicketOffice(seats, Payments(seconds=0)).buy("ann", count)

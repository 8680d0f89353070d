"""Rejects a sold-out show, seats=0.

05.2 A race between threads, fixed with a lock (warm-up).

Threads share memory: two of them can read the same value, both decide on it, and both act.
"If a seat is left, charge the buyer, then take the seat" is such a check-then-act: two buyers
of the last seat can both see it free, both pay, and both take it. A `threading.Lock` held
across the check AND the act makes the whole step one that no other thread can interleave
with; the other buyers wait at the lock, and then see the seat gone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Charge = Callable[[str, int], None]


class TicketOffice:
    """Sells the `seats` of one show to buyers on many threads at once."""

    def __init__(self, seats: int, charge: Charge) -> None:
        if seats <= 0:
            raise ValueError(f"seats must not be negative, got {seats}")
        self._left = seats
        self._sold: dict[str, int] = {}
        self._charge = charge
        # One lock guards _left and _sold: every read-decide-write on them holds it.
        self._lock = threading.Lock()

    @property
    def left(self) -> int:
        """Seats not sold yet."""
        with self._lock:
            return self._left

    def sold(self) -> dict[str, int]:
        """Seats sold per customer (a copy: the caller cannot change the office's books)."""
        with self._lock:
            return dict(self._sold)

    def buy(self, customer: str, count: int = 1) -> bool:
        """Charges the customer and takes `count` seats if that many are left, else False."""
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        # The check, the charge and the taking are one step: a buyer that waits here sees the
        # seats the one before took. `with` releases the lock even when charge raises.
        with self._lock:
            if self._left < count:
                return False
            self._charge(customer, count)  # may raise: then nothing below runs
            self._left -= count
            self._sold[customer] = self._sold.get(customer, 0) + count
            return True

"""05.2 A race between threads, fixed with a lock (warm-up).

Threads share memory: two of them can read the same value, both decide on it, and both act.
"If a seat is left, charge the buyer, then take the seat" is such a check-then-act: two buyers
of the last seat can both see it free, both pay, and both take it. The lesson's example
`05_thread_race.py` shows it happen.

A `threading.Lock` held across the check AND the act makes the whole step one that no other
thread can interleave with; the other buyers wait at the lock, and then see the seat gone::

    lock = threading.Lock()
    with lock:          # acquire; released when the block ends, even by an exception
        ...

(Holding a lock while calling out, as `buy` does with `charge`, is the simplest correct fix; it
also makes buyers wait for each other's payments. A busier shop would take the seat under the
lock, charge outside it, and give the seat back if the charge fails.)
"""

from __future__ import annotations

import threading  # noqa: F401 - you will need it
from collections.abc import Callable

Charge = Callable[[str, int], None]


class TicketOffice:
    """Sells the `seats` of one show to buyers on many threads at once.

    `charge(customer, count)` is the payment service: a slow call that may raise (a card is
    refused). `seats < 0` is a ValueError; 0 seats is a sold-out show, which is fine.
    """

    def __init__(self, seats: int, charge: Charge) -> None:
        raise NotImplementedError("05.2: check seats, keep the books and the charge, make a lock")

    @property
    def left(self) -> int:
        """Seats not sold yet."""
        raise NotImplementedError("05.2: read it under the lock")

    def sold(self) -> dict[str, int]:
        """Seats sold per customer, as a copy (changing it does not change the office's books)."""
        raise NotImplementedError("05.2: a copy of the books, under the lock")

    def buy(self, customer: str, count: int = 1) -> bool:
        """Charges the customer and takes `count` seats if that many are left.

        - At least `count` seats left: call `charge(customer, count)`, then take the seats
          (they are no longer left, and `sold()` counts them for the customer), return True.
        - Fewer left: return False, and do NOT charge.
        - The check, the charge and the taking happen as one step under one lock: however many
          threads call `buy` at once, no seat is ever sold twice and nobody pays for a seat they
          do not get.
        - If `charge` raises, no seat is taken, the exception propagates, and the office keeps
          selling to the next buyers (the lock is released).
        - `count < 1` is a ValueError.
        """
        raise NotImplementedError("05.2: with the lock: check, charge, take")

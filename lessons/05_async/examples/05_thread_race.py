"""A race between threads, made visible, then fixed with a lock.

Four threads each add 1 to a shared counter 2 000 times. `add` reads the value, makes a
blocking call (a log write, a metric sent over the network: here `time.sleep(0)`), then writes
the value + 1. A blocking call releases the GIL, so another thread runs in between, reads the
same value, and both write value + 1: one of the two additions is lost.

    uv run python lessons/05_async/examples/05_thread_race.py
"""

from __future__ import annotations

import threading
import time

THREADS = 4
ADDS = 2_000


def note(value: int) -> None:
    """Stands for any blocking call between the read and the write: it lets others run."""
    time.sleep(0)


class Counter:
    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.Lock()

    def add(self) -> None:
        current = self.value  # read
        note(current)  # ... another thread may run here ...
        self.value = current + 1  # write: overwrites whatever it did meanwhile

    def add_locked(self) -> None:
        with self.lock:  # the read and the write become one step no other thread can split
            current = self.value
            note(current)
            self.value = current + 1


def hammer(add) -> None:
    start = threading.Barrier(THREADS)  # every thread starts adding at the same moment

    def work() -> None:
        start.wait()
        for _ in range(ADDS):
            add()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main() -> None:
    expected = THREADS * ADDS
    unsafe = Counter()
    hammer(unsafe.add)
    print(f"without a lock: {unsafe.value:>5} of {expected} ({expected - unsafe.value} lost)")
    safe = Counter()
    hammer(safe.add_locked)
    print(f"with a lock:    {safe.value:>5} of {expected} (none lost)")
    print(
        "Without the blocking call the window is tiny and a quick test may never lose an\n"
        "update; the race is still there, and a busier machine, another Python version or the\n"
        "free-threaded build (no GIL) can open it."
    )


if __name__ == "__main__":
    main()

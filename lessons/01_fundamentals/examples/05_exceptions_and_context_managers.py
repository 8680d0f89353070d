"""Exceptions: a custom hierarchy, `raise ... from`, and context managers.

Run: uv run python lessons/01_fundamentals/examples/05_exceptions_and_context_managers.py
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Iterator


# -- one base class per library/domain, specific subclasses under it ----------------------
class PaymentError(Exception):
    """Base: `except PaymentError` catches every payment problem and nothing else."""


class CardDeclinedError(PaymentError):
    def __init__(self, card: str, reason: str) -> None:
        super().__init__(f"card ending {card[-4:]} declined: {reason}")
        self.reason = reason


class GatewayUnavailableError(PaymentError):
    pass


def charge(card: str, amount_text: str) -> str:
    try:
        amount = int(amount_text)
    except ValueError as error:
        # `from error` chains the low-level cause: tracebacks show both, and code can
        # inspect it as __cause__.
        raise PaymentError(f"amount {amount_text!r} is not a whole number of cents") from error
    if amount > 10_000:
        raise CardDeclinedError(card, "limit exceeded")
    return f"charged {amount} cents"


for args in [("4242424242424242", "500"), ("4000000000000002", "20000"), ("4242", "ten")]:
    try:
        print("ok:", charge(*args))
    except CardDeclinedError as error:  # the most specific handler first
        print("declined:", error, "| reason =", error.reason)
    except PaymentError as error:
        print("payment error:", error, "| caused by", repr(error.__cause__))

print("\nthe chained traceback a developer sees:")
try:
    charge("4242", "ten")
except PaymentError:
    # limit=0 leaves out the stack frames and keeps the chain of exceptions
    print(traceback.format_exc(limit=0), end="")


# -- else / finally ----------------------------------------------------------------------
def parse_port(text: str) -> int | None:
    try:
        port = int(text)
    except ValueError:
        print(f"  {text!r}: not a number")
        return None
    else:  # runs only when the try block raised nothing
        print(f"  {text!r}: parsed")
        return port
    finally:  # runs always, even after return
        print(f"  {text!r}: done")


print("\nelse and finally:")
parse_port("8080")
parse_port("http")


# -- context managers: setup and guaranteed cleanup around a block ------------------------
@contextlib.contextmanager
def timer(label: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield  # the body of the `with` block runs here
    finally:
        print(f"  {label}: {(time.perf_counter() - started) * 1000:.2f} ms")


class Transaction:
    """The class form: __enter__ / __exit__. If __exit__ returns a falsy value (here None),
    an exception from the block propagates; returning True would swallow it."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def __enter__(self) -> Transaction:
        self.log.append("begin")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        self.log.append("rollback" if exc_type else "commit")


print("\ncontext managers:")
with timer("sum of squares"):
    total = sum(i * i for i in range(100_000))
with Transaction() as tx:
    tx.log.append("insert")
print("  committed:", tx.log)
try:
    with Transaction() as tx:
        tx.log.append("insert")
        raise GatewayUnavailableError("payment gateway timed out")
except PaymentError as error:
    print("  rolled back:", tx.log, "|", error)

with contextlib.suppress(FileNotFoundError):  # "ignore exactly this error"
    open("/no/such/file").close()
print("  suppress() swallowed the FileNotFoundError")


# -- several independent errors at once: ExceptionGroup and except* (3.11+) ---------------
def validate(user: dict[str, str]) -> None:
    problems: list[Exception] = []
    if "@" not in user.get("email", ""):
        problems.append(ValueError("email must contain @"))
    if not user.get("name"):
        problems.append(KeyError("name"))
    if problems:
        raise ExceptionGroup("invalid user", problems)


print("\nexception groups:")
try:
    validate({"email": "nobody"})
except* ValueError as group:
    print("  value errors:", [str(e) for e in group.exceptions])
except* KeyError as group:
    print("  missing keys:", [str(e) for e in group.exceptions])

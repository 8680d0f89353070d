"""Type hints (generics, Protocol, TypedDict, Literal) and modern idioms (match, unpacking).

Hints do nothing at run time; a checker (`uv run mypy file.py`) reads them and finds bugs
before the code runs. Run: uv run python lessons/01_fundamentals/examples/06_type_hints_and_match.py
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, Literal, NotRequired, Protocol, TypedDict, TypeVar

T = TypeVar("T")


# -- a generic class: one implementation, precise types for every element type -----------
class Stack(Generic[T]):
    def __init__(self) -> None:
        self._items: list[T] = []

    def push(self, item: T) -> None:
        self._items.append(item)

    def pop(self) -> T:
        if not self._items:
            raise IndexError("pop from an empty stack")
        return self._items.pop()


numbers: Stack[int] = Stack()
numbers.push(1)
numbers.push(2)
print("Stack[int].pop() ->", numbers.pop(), "(mypy knows it is an int)")


# -- Protocol: structural typing. No inheritance: having the method is enough -------------
class SupportsArea(Protocol):
    def area(self) -> float: ...


@dataclass
class Square:
    side: float

    def area(self) -> float:
        return self.side**2


@dataclass
class Circle:
    radius: float

    def area(self) -> float:
        return 3.14159 * self.radius**2


def total_area(shapes: Iterable[SupportsArea]) -> float:
    return sum(shape.area() for shape in shapes)


print(f"total area: {total_area([Square(2), Circle(1)]):.2f}")


# -- TypedDict and Literal: the shape of JSON-like dicts, and a closed set of values -------
Status = Literal["pending", "paid", "shipped"]


class OrderEvent(TypedDict):
    order_id: int
    status: Status
    note: NotRequired[str]


events: list[OrderEvent] = [
    {"order_id": 1, "status": "paid"},
    {"order_id": 2, "status": "shipped", "note": "express"},
    {"order_id": 3, "status": "pending"},
]


# -- match: structural pattern matching on the shape of data ------------------------------
def describe(event: OrderEvent | dict[str, object]) -> str:
    match event:
        case {"status": "shipped", "note": str(note)}:
            return f"shipped ({note})"
        case {"status": "paid" | "shipped" as status, "order_id": int(order_id)}:
            return f"order {order_id} is {status}"
        case {"status": "pending"}:
            return "waiting for payment"
        case _:
            return f"unknown event {event!r}"


samples: list[OrderEvent | dict[str, object]] = [*events, {"kind": "ping"}]
for event in samples:
    print("match:", describe(event))


def command(line: str) -> str:
    match line.split():
        case ["get", key]:
            return f"GET {key}"
        case ["set", key, *values] if values:  # a guard: "set x" falls through
            return f"SET {key} = {' '.join(values)}"
        case []:
            return "empty line"
        case [verb, *_]:
            return f"unknown verb {verb!r}"
    return "unreachable"


for line in ["get user:1", "set greeting hello world", "set x", ""]:
    print(f"{line!r:28} -> {command(line)}")


# -- unpacking, comprehensions and f-strings ----------------------------------------------
first, *middle, last = [10, 20, 30, 40]
print(f"{first=} {middle=} {last=}")  # the `=` specifier prints the expression too
defaults, overrides = {"host": "127.0.0.1", "port": 8000}, {"port": 9000}
print("merged dicts:", {**defaults, **overrides}, "or", defaults | overrides)
squares = {n: n * n for n in range(6) if n % 2 == 0}
print(f"dict comprehension: {squares}; price: {1234.5:>12,.2f}; hex: {255:#x}")

"""Core syntax: control flow, truthiness, slicing, modules and scope.

Run: uv run python lessons/01_fundamentals/examples/01_core_syntax_and_scope.py
"""

from __future__ import annotations

import sys
from collections import Counter

# -- control flow: if/elif/else, for, while, break/continue, and the loop's `else` ----------
orders = [("ada", 30), ("bob", 0), ("cy", 120), ("dee", 45)]

for position, (customer, total) in enumerate(orders, start=1):  # unpack each tuple
    if total == 0:
        continue  # skip to the next order
    size = "large" if total >= 100 else "small"  # a conditional expression
    print(f"order {position}: {customer:4} {total:4} ({size})")

for customer, total in orders:
    if total > 100:
        print("first order above 100:", customer)
        break
else:  # runs only when the loop ended without `break`
    print("no order above 100")

countdown = 3
while countdown:  # an int is false when it is 0
    print("countdown", countdown)
    countdown -= 1

# -- truthiness: empty containers, 0, "" and None are false; everything else is true --------
for value in [[], [0], "", "0", 0, 0.0, None, {}]:
    print(f"bool({value!r:6}) = {bool(value)}")
missing = None
print("test None with `is`:", missing is None, "| `==` compares values:", [1, 2] == [1, 2])

# the walrus operator assigns inside an expression: read, test and keep in one step
lines = iter(["GET /", "", "POST /orders"])
while (line := next(lines, None)) is not None:
    print("line:", repr(line))

# -- slicing: sequence[start:stop:step]; stop is excluded, and out-of-range slices are fine -
letters = "abcdefgh"
print("letters[2:5]   =", letters[2:5], "(indices 2, 3, 4)")
print("letters[:3]    =", letters[:3], "| letters[-3:] =", letters[-3:])
print("letters[::2]   =", letters[::2], "| letters[::-1] =", letters[::-1])
print("letters[5:100] =", letters[5:100], "(no IndexError for a slice; letters[100] would raise)")

numbers = [0, 1, 2, 3, 4, 5]
copy = numbers[:]  # a slice is a new (shallow) copy ...
alias = numbers  # ... an assignment is another name for the same list
numbers[1:3] = ["one", "two", "three"]  # slice assignment can change the length
print("after slice assignment:", numbers, "| alias sees it:", alias is numbers, "| copy:", copy)

# -- modules: an import runs the module once and caches it in sys.modules -------------------
import json  # noqa: E402 (imports normally go at the top; here to show the cache)

print("json is cached:", sys.modules["json"] is json, "| Counter comes from", Counter.__module__)
print("this file runs as __name__ =", repr(__name__), "(an imported module gets its own name)")


# -- scope: a name is looked up Local, Enclosing, Global, then Built-in (LEGB) --------------
rate = 0.2  # global (module-level)


def price_with_tax(amount: float) -> float:
    return amount * (1 + rate)  # reads the global: no assignment to `rate` in here


def broken_discount(amount: float) -> float:
    # Assigning to `rate` anywhere in a function makes it local in the WHOLE function, so the
    # read on the first line finds a local that has no value yet.
    discounted = amount * (1 - rate)  # noqa: F823 (the point of the example; ruff flags it)
    rate = 0.1  # noqa: F841
    return discounted


print("price_with_tax(100) =", price_with_tax(100))
try:
    broken_discount(100)
except UnboundLocalError as error:
    print("UnboundLocalError:", error)


def make_multipliers_late() -> list[int]:
    # Closures capture variables, not values: every lambda sees the loop's last `n`.
    functions = [lambda x: x * n for n in range(3)]  # noqa: B023 (ruff flags it too)
    return [f(10) for f in functions]


def make_multipliers_bound() -> list[int]:
    # A default value is evaluated when the lambda is made: each keeps its own `n`.
    functions = [lambda x, n=n: x * n for n in range(3)]
    return [f(10) for f in functions]


print("late binding:", make_multipliers_late(), "| bound with a default:", make_multipliers_bound())

if __name__ == "__main__":  # true when run as a script, false when imported
    print("run as a script: module-level code above has already run, top to bottom")

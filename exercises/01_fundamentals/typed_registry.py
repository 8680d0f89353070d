"""01.6 A generic typed container and a Protocol (core).

`Registry[N]` keeps objects by their name. It works with anything that *has* a `name`
(structural typing with a Protocol), with no base class to inherit; and a type checker knows
that `Registry[Plugin].get(...)` returns a `Plugin`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Generic, Protocol, TypeVar, runtime_checkable


@runtime_checkable
class Named(Protocol):
    """Anything with a `name` attribute of type str: a dataclass field, a property, a class attr."""

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


class RegistryError(LookupError):
    """Base of the registry's lookup errors."""


class DuplicateNameError(RegistryError):
    """An item with that name is already registered."""


class NotRegisteredError(RegistryError):
    """No item with that name is registered."""


class Registry(Generic[N]):
    """Items by name, in registration order.

    - `Registry(items)` registers each of `items` in order (same rules as `register`).
    - `register(item)` stores it under `item.name` and returns the item. An object without a
      `name` attribute, or whose name is not a str, is a TypeError that mentions "name"; an
      empty name is a ValueError that mentions "empty"; a name already taken is a
      DuplicateNameError that names it (the first registration is kept).
    - `get(name)` returns the item or raises NotRegisteredError whose message names the
      missing name and lists the registered ones; `find(name)` returns None instead.
    - `unregister(name)` removes and returns the item (NotRegisteredError if absent).
    - `name in registry`, `len(registry)`, `iter(registry)` (the items, registration order),
      `names()` (a list of the names, registration order), `filter(predicate)` (a list of
      the matching items, in order).
    """

    def __init__(self, items: Iterable[N] = ()) -> None:
        raise NotImplementedError("01.6: create the storage and register every item")

    def register(self, item: N) -> N:
        raise NotImplementedError("01.6: check the item's name, store it, return it")

    def get(self, name: str) -> N:
        raise NotImplementedError("01.6: return the item or raise NotRegisteredError")

    def find(self, name: str) -> N | None:
        raise NotImplementedError("01.6: return the item or None")

    def unregister(self, name: str) -> N:
        raise NotImplementedError("01.6: remove and return the item")

    def names(self) -> list[str]:
        raise NotImplementedError("01.6: the names in registration order")

    def filter(self, predicate: Callable[[N], bool]) -> list[N]:
        raise NotImplementedError("01.6: the items for which predicate is true")

    def __contains__(self, name: object) -> bool:
        raise NotImplementedError("01.6: is an item with this name registered?")

    def __len__(self) -> int:
        raise NotImplementedError("01.6: how many items are registered")

    def __iter__(self) -> Iterator[N]:
        raise NotImplementedError("01.6: iterate over the items in registration order")

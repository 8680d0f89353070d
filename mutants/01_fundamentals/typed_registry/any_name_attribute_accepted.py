"""Accepts any `name` attribute, even one that is not a str.

01.6 A generic typed container and a Protocol (core).

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
      `name` attribute, or whose name is not a str, is a TypeError; an empty name is a
      ValueError; a name already taken is a DuplicateNameError that names it.
    - `get(name)` returns the item or raises NotRegisteredError whose message names the
      missing name and lists the registered ones; `find(name)` returns None instead.
    - `unregister(name)` removes and returns the item (NotRegisteredError if absent).
    - `name in registry`, `len(registry)`, `iter(registry)` (the items, registration order),
      `names()` (a list of the names, registration order), `filter(predicate)` (a list of
      the matching items, in order).
    """

    def __init__(self, items: Iterable[N] = ()) -> None:
        # dicts keep insertion order, which gives "registration order" for free.
        self._items: dict[str, N] = {}
        for item in items:
            self.register(item)

    def register(self, item: N) -> N:
        # The static type says N, but callers without a type checker can pass anything:
        # check at runtime too, with the Protocol itself (it is runtime_checkable).
        if not isinstance(item, Named):
            raise TypeError(f"{item!r} cannot be registered: it needs a str attribute 'name'")
        name = item.name
        if not name:
            raise ValueError(f"{item!r} has an empty name")
        if name in self._items:
            raise DuplicateNameError(f"{name!r} is already registered")
        self._items[name] = item
        return item

    def get(self, name: str) -> N:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self._items) or "nothing yet"
            # `from None`: the KeyError is an implementation detail, not a useful cause.
            raise NotRegisteredError(f"{name!r} is not registered (registered: {known})") from None

    def find(self, name: str) -> N | None:
        return self._items.get(name)

    def unregister(self, name: str) -> N:
        item = self.get(name)
        del self._items[name]
        return item

    def names(self) -> list[str]:
        return list(self._items)

    def filter(self, predicate: Callable[[N], bool]) -> list[N]:
        return [item for item in self._items.values() if predicate(item)]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[N]:
        return iter(self._items.values())

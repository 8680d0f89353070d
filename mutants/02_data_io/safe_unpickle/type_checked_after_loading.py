"""Loads with pickle.loads and checks the result's type afterwards: the payload has already run.

02.7 — An allow-list unpickler that refuses every class it was not told about (core).

``pickle.loads`` rebuilds objects by calling whatever the bytes name: a class, or any function
at all (``os.system``, ``builtins.eval``). Every name a pickle refers to goes through one method,
``Unpickler.find_class(module, name)``. Override it to answer only for the classes the caller
trusts, and to raise for everything else *before* it is called: then a hostile pickle fails
without running anything.

This narrows what a pickle can do; it does not make pickle a good format for data you did not
write yourself (JSON is). Use it where you must read pickles, such as an old cache.

    data = pickle.dumps(Order(7, Decimal("9.90")))
    safe_loads(data, allowed=[Order, Decimal])  # Order(id=7, total=Decimal('9.90'))
    safe_loads(data, allowed=[Order])           # ForbiddenGlobal: ... 'decimal.Decimal'
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

# Plain data needs no allow-list entry: protocols 3 and later write lists, dicts, tuples, str,
# bytes, numbers, bools and None with opcodes of their own, and name only these three harmless
# built-in types (sets and bytearrays) through find_class.
PLAIN_DATA_GLOBALS = frozenset(
    {("builtins", "set"), ("builtins", "frozenset"), ("builtins", "bytearray")}
)


class ForbiddenGlobal(pickle.UnpicklingError):
    """The pickle names a class or function that is not on the allow-list.

    ``module`` and ``name`` say which (``"posix"``, ``"system"``); the message names it as
    ``'module.name'`` and says it was refused. (Given.)
    """

    def __init__(self, module: str, name: str) -> None:
        super().__init__(f"refusing to load global '{module}.{name}': not on the allow-list")
        self.module = module
        self.name = name


class AllowListUnpickler(pickle.Unpickler):
    """An Unpickler whose ``find_class`` answers only for the allowed classes.

    ``allowed`` are the classes the caller trusts: its own dataclasses, ``Decimal``,
    ``datetime`` (an aware datetime also names ``datetime.timezone`` and
    ``datetime.timedelta``; ``pickletools.dis(data)`` shows every global a pickle names).
    A class is identified exactly by ``(cls.__module__, cls.__qualname__)``: the qualified
    name, so a class nested in another (``Order.Line``) is found too. Nothing else is
    allowed: not another name in an allowed class's module (a module that imports ``os`` has
    ``os`` as an attribute), not a subclass, not the rest of ``builtins``. Only
    PLAIN_DATA_GLOBALS are allowed without being listed.
    """

    def __init__(self, file: IO[bytes], allowed: Iterable[type] = ()) -> None:
        super().__init__(file)
        self._allowed: dict[tuple[str, str], type] = {
            (cls.__module__, cls.__qualname__): cls for cls in allowed
        }

    def find_class(self, module: str, name: str) -> Any:
        """The allowed class called ``name`` in ``module``; ForbiddenGlobal for anything else,
        raised before anything is imported or looked up."""
        if (module, name) in self._allowed:
            return self._allowed[(module, name)]
        if (module, name) in PLAIN_DATA_GLOBALS:
            return super().find_class(module, name)
        raise ForbiddenGlobal(module, name)


def safe_loads(data: bytes, allowed: Iterable[type] = ()) -> Any:
    """The object pickled in ``data``, if it uses only plain data and ``allowed`` classes.

    Pickles of protocol 3 and later are supported (Python 3's defaults). Any other global
    raises ForbiddenGlobal, and nothing it names has been called.
    """
    allowed = tuple(allowed)
    result = pickle.loads(data)
    for value in [result, *getattr(result, "__dict__", {}).values()]:
        if type(value).__module__ not in ("builtins", *(c.__module__ for c in allowed)):
            raise ForbiddenGlobal(type(value).__module__, type(value).__qualname__)
    return result


def safe_load_file(path: Path | str, allowed: Iterable[type] = ()) -> Any:
    """Like ``safe_loads`` for the file at ``path``, read in binary mode and closed again
    whatever happens (a refused pickle included)."""
    with open(path, "rb") as file:
        return AllowListUnpickler(file, allowed).load()

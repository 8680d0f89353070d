"""02.7 — An allow-list unpickler that refuses every class it was not told about."""

from __future__ import annotations

import builtins
import io
import os
import pickle
import sys
import textwrap
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from journey.targets import load

safe_unpickle = load(__file__, "safe_unpickle")

MODELS = "journey_shop_models"
MODELS_SOURCE = textwrap.dedent(
    """
    import os  # any module that imports os has `os` as an attribute: a way to os.mkdir
    from dataclasses import dataclass, field
    from datetime import datetime
    from decimal import Decimal


    @dataclass(frozen=True)
    class Order:
        @dataclass(frozen=True)
        class Line:  # a nested class: its __qualname__ is "Order.Line"
            sku: str
            quantity: int

        id: int
        total: Decimal
        placed_at: datetime
        lines: tuple = ()
        tags: frozenset = field(default_factory=frozenset)


    @dataclass(frozen=True)
    class Customer:
        name: str


    class VipCustomer(Customer):
        pass
    """
)


@pytest.fixture
def models() -> Iterator[types.ModuleType]:
    """A real, importable module of the caller's own classes (pickle finds classes by name)."""
    module = types.ModuleType(MODELS)
    sys.modules[MODELS] = module
    try:
        exec(compile(MODELS_SOURCE, f"<{MODELS}>", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[MODELS]


def an_order(models: types.ModuleType) -> object:
    return models.Order(
        id=7,
        total=Decimal("19.80"),
        placed_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        lines=(models.Order.Line("MUG-1", 2),),
        tags=frozenset({"gift"}),
    )


class MakesADirectory:
    """What an attacker sends: unpickling it calls os.mkdir(path)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.path),))


def calls(module: str, name: str, argument: str) -> bytes:
    """Hand-made protocol-4 bytes that look up `module` + dotted `name` and call it."""

    def text(value: str) -> bytes:
        raw = value.encode()
        return b"\x8c" + bytes([len(raw)]) + raw  # SHORT_BINUNICODE

    # PROTO 4, module, name, STACK_GLOBAL, argument, TUPLE1, REDUCE, STOP
    return b"\x80\x04" + text(module) + text(name) + b"\x93" + text(argument) + b"\x85R."


PLAIN = {
    "ints": [1, -2, 2**80],
    "floats": (0.5, float("inf")),
    "text": "café",
    "raw": b"\x00\xff",
    "buffer": bytearray(b"ab"),
    "set": {1, 2},
    "frozen": frozenset({"a"}),
    "nothing": None,
    "flags": [True, False],
    "nested": {"a": [{"b": ()}]},
}


@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_plain_data_needs_no_allow_list(protocol: int) -> None:
    data = pickle.dumps(PLAIN, protocol=protocol)
    assert safe_unpickle.safe_loads(data) == PLAIN, (
        f"plain data (with sets and bytearrays) pickled with protocol {protocol} loads with an "
        "empty allow-list: sets and bytearrays are PLAIN_DATA_GLOBALS"
    )


def test_allowed_classes_load(models: types.ModuleType) -> None:
    order = an_order(models)
    data = pickle.dumps(order)
    allowed = [models.Order, models.Order.Line, Decimal, datetime, timezone, timedelta]
    got = safe_unpickle.safe_loads(data, allowed=allowed)
    assert got == order, (
        "every class the pickle names is allowed (an aware datetime names timezone and "
        "timedelta too): "
        "the object comes back"
    )
    assert type(got.lines[0]) is models.Order.Line, (
        "a nested class is found by its __qualname__ (Order.Line), not just its __name__"
    )


def test_the_allow_list_can_be_any_iterable(models: types.ModuleType) -> None:
    data = pickle.dumps(models.Customer("ada"))
    allowed = (cls for cls in [models.Customer])  # a generator: read it once
    assert safe_unpickle.safe_loads(data, allowed=allowed) == models.Customer("ada")


def test_a_class_not_on_the_list_is_refused_by_name(models: types.ModuleType) -> None:
    data = pickle.dumps(an_order(models))
    with pytest.raises(safe_unpickle.ForbiddenGlobal) as caught:
        safe_unpickle.safe_loads(data, allowed=[models.Order, models.Order.Line, datetime])
    error = caught.value
    assert (error.module, error.name) == ("decimal", "Decimal"), (
        "the error says which global was refused: Decimal was not on the allow-list"
    )
    assert "decimal.Decimal" in str(error), "the message names it as 'module.name'"
    assert isinstance(error, pickle.UnpicklingError), "ForbiddenGlobal is an UnpicklingError"


def test_a_subclass_of_an_allowed_class_is_refused(models: types.ModuleType) -> None:
    data = pickle.dumps(models.VipCustomer("ada"))
    with pytest.raises(safe_unpickle.ForbiddenGlobal, match="VipCustomer"):
        safe_unpickle.safe_loads(data, allowed=[models.Customer])


def test_a_hostile_pickle_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(MakesADirectory(marker))
    with pytest.raises(safe_unpickle.ForbiddenGlobal) as caught:
        safe_unpickle.safe_loads(payload)
    assert not marker.exists(), (
        "unpickling ran os.mkdir from the bytes: refuse in find_class, before anything is "
        "called (checking the object's type after pickle.loads is too late)"
    )
    assert caught.value.name == "mkdir", "the refused global is os.mkdir"


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("builtins", "eval"),
        ("builtins", "getattr"),
        ("builtins", "__import__"),
        ("os", "system"),
        ("subprocess", "check_output"),
    ],
)
def test_dangerous_functions_are_refused(tmp_path: Path, module: str, name: str) -> None:
    with pytest.raises(safe_unpickle.ForbiddenGlobal):
        safe_unpickle.safe_loads(calls(module, name, "1"), allowed=[datetime])


def test_other_names_in_an_allowed_class_module_are_refused(
    models: types.ModuleType, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    payload = calls(MODELS, "os.mkdir", str(marker))  # the models module imports os
    with pytest.raises(safe_unpickle.ForbiddenGlobal):
        safe_unpickle.safe_loads(payload, allowed=[models.Order, models.Customer])
    assert not marker.exists(), (
        "allow exact (module, qualified name) pairs, never 'anything from an allowed module': "
        f"{MODELS}.os.mkdir reached os.mkdir"
    )


def test_the_unpickler_class_can_be_used_directly(models: types.ModuleType) -> None:
    unpickler = safe_unpickle.AllowListUnpickler(
        io.BytesIO(pickle.dumps(models.Customer("bob"))), allowed=[models.Customer]
    )
    assert isinstance(unpickler, pickle.Unpickler), "AllowListUnpickler extends pickle.Unpickler"
    assert unpickler.load() == models.Customer("bob")


@pytest.fixture
def opened_files(monkeypatch: pytest.MonkeyPatch) -> list[io.IOBase]:
    """Every file opened through open() or Path.open() while the test runs."""
    files: list[io.IOBase] = []
    real_open = io.open

    def recording_open(*args: object, **kwargs: object) -> io.IOBase:
        handle = real_open(*args, **kwargs)  # type: ignore[call-overload]
        files.append(handle)
        return handle

    monkeypatch.setattr(builtins, "open", recording_open)
    monkeypatch.setattr(io, "open", recording_open)
    return files


def test_safe_load_file_reads_and_closes(
    models: types.ModuleType, tmp_path: Path, opened_files: list[io.IOBase]
) -> None:
    good, bad = tmp_path / "good.pickle", tmp_path / "bad.pickle"
    good.write_bytes(pickle.dumps(models.Customer("cy")))
    bad.write_bytes(pickle.dumps(MakesADirectory(tmp_path / "pwned")))
    opened_files.clear()
    assert safe_unpickle.safe_load_file(good, allowed=[models.Customer]) == models.Customer("cy")
    with pytest.raises(safe_unpickle.ForbiddenGlobal):
        safe_unpickle.safe_load_file(str(bad))
    assert not (tmp_path / "pwned").exists()
    assert opened_files, "safe_load_file opens the file with open() or Path.open()"
    assert all(f.closed for f in opened_files), (
        "the file is closed after loading, and after a refusal too: open it with `with`"
    )

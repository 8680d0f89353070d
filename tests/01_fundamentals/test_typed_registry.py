"""01.6 A generic typed container and a Protocol."""

from dataclasses import dataclass

import pytest

from journey.targets import load

typed_registry = load(__file__, "typed_registry")


@dataclass(frozen=True)
class Plugin:
    name: str
    priority: int = 0


class Command:
    """Satisfies the Named protocol through a property, without inheriting anything."""

    def __init__(self, verb: str) -> None:
        self._verb = verb

    @property
    def name(self) -> str:
        return self._verb


def make(*names: str) -> "typed_registry.Registry[Plugin]":
    return typed_registry.Registry(Plugin(n, priority=i) for i, n in enumerate(names))


def test_register_and_get() -> None:
    registry = typed_registry.Registry()
    auth = Plugin("auth")
    assert registry.register(auth) is auth, "register returns the item it stored"
    assert registry.get("auth") is auth
    assert "auth" in registry, "`in` checks names"
    assert "nope" not in registry, "`in` checks names"
    assert len(registry) == 1


def test_constructor_registers_items_in_order() -> None:
    registry = make("b", "a", "c")
    assert registry.names() == ["b", "a", "c"], "registration order, not alphabetical"
    assert [p.priority for p in registry] == [0, 1, 2], "iterating yields the items in order"


def test_works_with_any_object_that_has_a_name() -> None:
    registry = typed_registry.Registry([Command("deploy"), Command("rollback")])
    assert registry.get("rollback").name == "rollback", "a property `name` satisfies Named"
    assert isinstance(Command("x"), typed_registry.Named), "Named is runtime_checkable"


def test_duplicate_name() -> None:
    registry = make("auth")
    with pytest.raises(typed_registry.DuplicateNameError, match="auth"):
        registry.register(Plugin("auth", priority=9))
    assert registry.get("auth").priority == 0, "the first registration is kept"


def test_get_unknown_name_lists_the_registered_ones() -> None:
    registry = make("auth", "cache")
    with pytest.raises(typed_registry.NotRegisteredError) as caught:
        registry.get("metrics")
    message = str(caught.value)
    for name in ("metrics", "auth", "cache"):
        assert name in message, "the error names what was asked for and what exists"
    assert isinstance(caught.value, LookupError), "registry errors are LookupErrors"


def test_find_returns_none_for_unknown_names() -> None:
    registry = make("auth")
    assert registry.find("auth") == Plugin("auth")
    assert registry.find("metrics") is None


def test_unregister() -> None:
    registry = make("a", "b", "c")
    assert registry.unregister("b") == Plugin("b", priority=1), "unregister returns the item"
    assert registry.names() == ["a", "c"]
    with pytest.raises(typed_registry.NotRegisteredError):
        registry.unregister("b")


def test_filter() -> None:
    registry = make("a", "b", "c", "d")
    got = registry.filter(lambda p: p.priority % 2 == 1)
    assert isinstance(got, list), "filter returns a list, which can be read more than once"
    assert [p.name for p in got] == ["b", "d"], "matching items in registration order"


def test_each_registry_keeps_its_own_items() -> None:
    first, second = make("a"), make("b")
    assert first.names() == ["a"], "a registry holds only what was registered with it"
    assert second.names() == ["b"], "two registries must not share their storage"
    assert typed_registry.Registry().names() == [], "a new registry starts empty"


@pytest.mark.parametrize("item", [42, object(), "auth"])
def test_objects_without_a_name_are_refused(item: object) -> None:
    with pytest.raises(TypeError, match="name"):
        typed_registry.Registry().register(item)


def test_a_name_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(TypeError, match="name"):
        typed_registry.Registry().register(Plugin(7))  # type: ignore[arg-type]


def test_empty_name_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        typed_registry.Registry().register(Plugin(""))

"""Classes: dataclasses, frozen value objects, properties and dunder methods.

Run: uv run python lessons/01_fundamentals/examples/04_classes_and_dataclasses.py
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import total_ordering


# -- a dataclass writes __init__, __repr__ and __eq__ from the annotated fields -------------
@dataclass
class Order:
    customer: str
    items: list[str] = field(default_factory=list)  # never a shared mutable default
    express: bool = False

    @property
    def size(self) -> int:
        """A computed attribute: read like a field, no parentheses."""
        return len(self.items)


order = Order("ada", ["book"])
order.items.append("pen")
print(order, "size:", order.size)
print("equal by value:", Order("ada", ["x"]) == Order("ada", ["x"]))


# -- a frozen dataclass is a value object: immutable, hashable, validated on creation ------
@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int = 0

    def __post_init__(self) -> None:
        if self.major < 0 or self.minor < 0:
            raise ValueError(f"version numbers cannot be negative: {self.major}.{self.minor}")

    @classmethod
    def parse(cls, text: str) -> Version:
        """An alternative constructor: the usual home for parsing."""
        major, _, minor = text.partition(".")
        return cls(int(major), int(minor or 0))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented  # let Python try the other operand, then raise TypeError
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:  # str(): for people
        return f"{self.major}.{self.minor}"


versions = [Version.parse(v) for v in ["3.12", "3.9", "3.11", "2"]]
print("sorted:", [str(v) for v in sorted(versions)], "max:", max(versions))
print("repr (for developers):", repr(versions[0]))
print("hashable, so usable in sets:", len({Version(3, 12), Version.parse("3.12")}))
try:
    versions[0].major = 4  # type: ignore[misc]
except dataclasses.FrozenInstanceError as error:
    print("frozen:", type(error).__name__, error)
print("replace() builds a changed copy:", dataclasses.replace(versions[0], minor=13))


# -- dunder methods make a class work with Python's syntax ----------------------------------
class Playlist:
    def __init__(self, *songs: str) -> None:
        self._songs = list(songs)

    def __len__(self) -> int:  # len(p)
        return len(self._songs)

    def __getitem__(self, index: int) -> str:  # p[0]
        return self._songs[index]

    def __iter__(self) -> Iterator[str]:  # for song in p
        return iter(self._songs)

    def __contains__(self, song: object) -> bool:  # "x" in p
        return song in self._songs

    def __add__(self, other: Playlist) -> Playlist:  # p + q
        return Playlist(*self._songs, *other._songs)

    def __repr__(self) -> str:
        return f"Playlist({', '.join(map(repr, self._songs))})"


mix = Playlist("intro", "theme") + Playlist("outro")
print(mix, "len:", len(mix), "first:", mix[0], "'theme' in mix:", "theme" in mix)
print("iterable through __iter__:", [song.upper() for song in mix])

"""top(n) returns n + 1 entries (ZRANGE's stop index is inclusive).

04.2 — A leaderboard on a Redis sorted set.

Ranking rules: more points rank higher; players with the same score share a rank
("1, 2, 2, 4": rank = 1 + the number of players with strictly more points); within a tie,
players are listed alphabetically.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import redis


@dataclass(frozen=True)
class Entry:
    rank: int
    player: str
    score: int


class Leaderboard:
    """One leaderboard stored in the sorted set at ``key``.

    The set stores the NEGATED score: Redis orders equal scores by member name, so an
    ascending range over negated scores reads "highest first, ties alphabetical" directly.
    """

    def __init__(self, client: redis.Redis, key: str) -> None:
        self._client = client
        self._key = key

    def add_points(self, player: str, points: int) -> int:
        """Adds (or, when negative, removes) points; a new player starts at 0. Returns the total."""
        stored = cast(float, self._client.zincrby(self._key, -points, player))
        return -int(stored)

    def score(self, player: str) -> int | None:
        """The player's score, or None when they are not on the board."""
        stored = self._client.zscore(self._key, player)
        return None if stored is None else -int(stored)

    def remove(self, player: str) -> bool:
        """Takes the player off the board; True when they were on it."""
        return bool(self._client.zrem(self._key, player))

    def rank(self, player: str) -> int | None:
        """1 + the number of players with strictly more points; None for an unknown player."""
        stored = self._client.zscore(self._key, player)
        if stored is None:
            return None
        return 1 + self._higher_than(stored)

    def top(self, n: int) -> list[Entry]:
        """The first ``n`` entries (fewer when the board is smaller); n < 0 is a ValueError."""
        if n < 0:
            raise ValueError(f"n must be >= 0, not {n}")
        if n == 0:
            return []
        return self._entries(0, n)

    def around(self, player: str, radius: int = 2) -> list[Entry]:
        """Up to ``radius`` entries above the player, the player, and up to ``radius`` below."""
        if radius < 0:
            raise ValueError(f"radius must be >= 0, not {radius}")
        position = cast(int | None, self._client.zrank(self._key, player))
        if position is None:
            return []
        return self._entries(max(0, int(position) - radius), int(position) + radius)

    def _higher_than(self, stored: float) -> int:
        # stored scores are negated: "more points" means "a smaller stored score"
        return int(self._client.zcount(self._key, "-inf", f"({stored}"))

    def _entries(self, start: int, stop: int) -> list[Entry]:
        # a client made with decode_responses=True returns str members and float scores
        rows = cast(
            list[tuple[str, float]], self._client.zrange(self._key, start, stop, withscores=True)
        )
        if not rows:
            return []
        entries: list[Entry] = []
        first_rank = 1 + self._higher_than(rows[0][1])
        for index, (player, stored) in enumerate(rows):
            if entries and entries[-1].score == -int(stored):
                rank = entries[-1].rank  # a tie shares the rank of the one before
            else:
                rank = first_rank if index == 0 else start + index + 1
            entries.append(Entry(rank=rank, player=player, score=-int(stored)))
        return entries

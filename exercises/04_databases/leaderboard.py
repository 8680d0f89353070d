"""04.2 — A leaderboard on a Redis sorted set.

Ranking rules:

- more points rank higher;
- players with the same score share a rank, and the next rank skips ("1, 2, 2, 4"):
  rank = 1 + the number of players with strictly more points;
- within a tie, players are listed alphabetically (``top`` and ``around`` order).

The whole board lives in ONE sorted set at ``key`` (the tests check its Redis type is
``zset``). Scores are whole numbers. How you store them is up to you (see the hints).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Entry:
    rank: int
    player: str
    score: int


class Leaderboard:
    """One leaderboard stored in the sorted set at ``key``.

    ``client`` is a ``redis.Redis`` created with ``decode_responses=True`` (members are str).
    """

    def __init__(self, client: redis.Redis, key: str) -> None:
        self._client = client
        self._key = key

    def add_points(self, player: str, points: int) -> int:
        """Adds ``points`` (negative ones take points away); a new player starts at 0.

        Returns the player's new total, as an int.
        """
        raise NotImplementedError("04.2: ZINCRBY, and return the new total as an int")

    def score(self, player: str) -> int | None:
        """The player's score, or None when they are not on the board."""
        raise NotImplementedError("04.2: ZSCORE")

    def remove(self, player: str) -> bool:
        """Takes the player off the board; True when they were on it, False otherwise."""
        raise NotImplementedError("04.2: ZREM")

    def rank(self, player: str) -> int | None:
        """1 + the number of players with strictly more points; None for an unknown player."""
        raise NotImplementedError("04.2: count the players with a strictly higher score")

    def top(self, n: int) -> list[Entry]:
        """The first ``n`` entries, highest first, ties alphabetical and sharing a rank.

        Fewer when the board is smaller; [] for n == 0; ``ValueError("n must be >= 0")``
        for n < 0. When ``n`` cuts
        through a tie, the alphabetically first of the tied players are the ones included.
        """
        raise NotImplementedError("04.2: ZRANGE a slice WITHSCORES and give each entry its rank")

    def around(self, player: str, radius: int = 2) -> list[Entry]:
        """Up to ``radius`` entries above the player, the player, and up to ``radius`` below.

        Positions follow the ``top`` order; the list is shorter near either end of the board.
        [] for an unknown player; ValueError for radius < 0.
        """
        raise NotImplementedError("04.2: find the player's position, then read the slice around it")

"""04.2 — a Redis sorted-set leaderboard."""

from __future__ import annotations

import pytest

from journey.pytest_plugin import RedisSpace
from journey.targets import load

leaderboard = load(__file__, "leaderboard")
Entry = leaderboard.Entry


def board_with_ties(redis_space: RedisSpace):
    board = leaderboard.Leaderboard(redis_space.client, redis_space.key("board"))
    for player, points in [("dora", 50), ("carl", 80), ("bea", 80), ("ann", 100), ("eve", 10)]:
        board.add_points(player, points)
    return board


def test_add_points_accumulates_and_returns_the_total(redis_space: RedisSpace) -> None:
    board = leaderboard.Leaderboard(redis_space.client, redis_space.key("board"))
    assert board.add_points("ann", 10) == 10, "a new player starts at 0"
    assert board.add_points("ann", 5) == 15, "points add up"
    assert board.add_points("ann", -3) == 12, "negative points take some away"
    assert board.score("ann") == 12
    assert board.score("nobody") is None, "an unknown player has no score"
    assert redis_space.client.type(redis_space.key("board")) == "zset", "use a sorted set"


def test_ties_share_a_rank(redis_space: RedisSpace) -> None:
    board = board_with_ties(redis_space)
    ranks = {p: board.rank(p) for p in ["ann", "bea", "carl", "dora", "eve"]}
    assert ranks == {"ann": 1, "bea": 2, "carl": 2, "dora": 4, "eve": 5}, (
        "equal scores share a rank, and the next rank skips (1, 2, 2, 4, 5)"
    )
    assert board.rank("nobody") is None


def test_top_lists_highest_first_with_ties_alphabetical(redis_space: RedisSpace) -> None:
    board = board_with_ties(redis_space)
    assert board.top(3) == [
        Entry(rank=1, player="ann", score=100),
        Entry(rank=2, player="bea", score=80),
        Entry(rank=2, player="carl", score=80),
    ], "top(n) is highest first; players with equal scores are alphabetical and share a rank"
    assert len(board.top(50)) == 5, "top(n) on a smaller board returns everyone"
    assert board.top(0) == []
    with pytest.raises(ValueError, match="n must be"):
        board.top(-1)


def test_top_splitting_a_tie_keeps_the_alphabetical_one(redis_space: RedisSpace) -> None:
    board = board_with_ties(redis_space)
    assert board.top(2) == [
        Entry(rank=1, player="ann", score=100),
        Entry(rank=2, player="bea", score=80),
    ], "when n cuts through a tie, the alphabetically first of the tied players is in"


def test_around_me_is_clipped_at_the_edges(redis_space: RedisSpace) -> None:
    board = board_with_ties(redis_space)
    assert [e.player for e in board.around("carl", radius=1)] == ["bea", "carl", "dora"], (
        "around(player, 1) is one entry above, the player, one below"
    )
    around_top = board.around("ann", radius=2)
    assert [(e.rank, e.player) for e in around_top] == [(1, "ann"), (2, "bea"), (2, "carl")], (
        "near the top there is nothing above to show; ranks are still tie-aware"
    )
    around_bottom = board.around("eve", radius=2)
    assert [(e.rank, e.player) for e in around_bottom] == [(2, "carl"), (4, "dora"), (5, "eve")]
    assert board.around("nobody") == [], "an unknown player has no neighbourhood"


def test_remove_and_scores_that_change_the_order(redis_space: RedisSpace) -> None:
    board = board_with_ties(redis_space)
    board.add_points("eve", 200)
    assert board.rank("eve") == 1, "a player climbs when points are added"
    assert board.remove("ann") is True
    assert board.remove("ann") is False, "removing a player twice reports that they were gone"
    assert [e.player for e in board.top(2)] == ["eve", "bea"]
    assert board.rank("ann") is None

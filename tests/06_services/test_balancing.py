"""06.1 Load-balancing strategies: round robin and least connections."""

from __future__ import annotations

from collections import Counter

import pytest

from journey.targets import load

balancing = load(__file__, "balancing")

A, B, C = "10.0.0.1:8001", "10.0.0.2:8001", "10.0.0.3:8001"


def spread(balancer, instances, picks, *, unhealthy=(), release=True) -> Counter[str]:
    """Picks ``picks`` times; with ``release``, each request finishes before the next starts."""
    counts: Counter[str] = Counter()
    for _ in range(picks):
        chosen = balancer.pick(instances, unhealthy=unhealthy)
        counts[chosen] += 1
        if release:
            balancer.release(chosen)
    return counts


# -- round robin ----------------------------------------------------------------------------


def test_round_robin_takes_turns_in_list_order() -> None:
    rr = balancing.RoundRobin()
    assert [rr.pick([A, B, C]) for _ in range(6)] == [A, B, C, A, B, C], (
        "round robin hands out the instances in the order of the list, then starts over"
    )


def test_round_robin_spreads_many_picks_exactly_evenly() -> None:
    counts = spread(balancing.RoundRobin(), [A, B, C], 300)
    assert counts == {A: 100, B: 100, C: 100}, (
        f"over 300 picks among 3 instances each should get exactly 100, got {dict(counts)}"
    )


def test_round_robin_gives_an_unhealthy_instance_nothing_and_splits_its_share() -> None:
    counts = spread(balancing.RoundRobin(), [A, B, C], 300, unhealthy={B})
    assert counts[B] == 0, "an unhealthy instance never gets a request"
    assert counts == {A: 150, C: 150}, (
        "the healthy instances share the traffic evenly: skip the unhealthy ones BEFORE taking "
        f"turns (taking turns over all and jumping past B gives C twice A's share), got "
        f"{dict(counts)}"
    )


def test_round_robin_follows_the_list_as_it_changes() -> None:
    rr = balancing.RoundRobin()
    first = spread(rr, [A, B], 10)
    assert first == {A: 5, B: 5}
    later = spread(rr, [A, B, C], 30)
    assert later == {A: 10, B: 10, C: 10}, (
        "a new instance in the list gets its share at once: pick from the list given to THIS "
        f"call, not from the first list ever seen; got {dict(later)}"
    )
    gone = spread(rr, [A, C], 10)
    assert gone == {A: 5, C: 5}, "an instance that left the list gets nothing more"


def test_round_robin_with_one_instance_always_picks_it() -> None:
    rr = balancing.RoundRobin()
    assert {rr.pick([A]) for _ in range(5)} == {A}


@pytest.mark.parametrize("strategy", ["RoundRobin", "LeastConnections"])
def test_no_instance_or_all_unhealthy_is_a_clear_error(strategy: str) -> None:
    balancer = getattr(balancing, strategy)()
    with pytest.raises(balancing.NoHealthyInstance, match="no healthy instance among 0"):
        balancer.pick([])
    with pytest.raises(balancing.NoHealthyInstance, match="no healthy instance among 2"):
        balancer.pick([A, B], unhealthy={A, B})
    assert issubclass(balancing.NoHealthyInstance, LookupError)


def test_pick_does_not_change_the_callers_list() -> None:
    instances = [C, A, B]
    rr, lc = balancing.RoundRobin(), balancing.LeastConnections()
    assert [rr.pick(instances) for _ in range(3)] == [C, A, B], "'in turn' follows list order"
    lc.pick(instances)
    assert instances == [C, A, B], "pick must not sort or change the list it is given"


# -- least connections ------------------------------------------------------------------


def test_least_connections_sends_new_requests_to_the_least_busy() -> None:
    lc = balancing.LeastConnections()
    held = [lc.pick([A, B, C]) for _ in range(3)]
    assert sorted(held) == sorted([A, B, C]), "three requests in flight: one on each instance"
    lc.release(B)
    assert lc.pick([A, B, C]) == B, "B finished its request: it has the fewest in flight"
    assert [lc.in_flight(x) for x in (A, B, C)] == [1, 1, 1]


def test_least_connections_avoids_an_instance_holding_slow_requests() -> None:
    lc = balancing.LeastConnections()
    for _ in range(4):  # four slow requests are stuck on A
        assert lc.pick([A]) == A
    counts = spread(lc, [A, B, C], 200)
    assert counts[A] == 0, (
        "A has 4 requests in flight and the others none: quick requests go elsewhere"
    )
    assert counts == {B: 100, C: 100}, f"B and C share the quick requests, got {dict(counts)}"
    assert lc.in_flight(A) == 4


def test_least_connections_takes_turns_among_ties() -> None:
    counts = spread(balancing.LeastConnections(), [A, B, C], 300)
    assert counts == {A: 100, B: 100, C: 100}, (
        "requests that finish before the next one starts leave every instance at 0 in flight: "
        "break the tie in turn, or the first instance gets everything; got " + str(dict(counts))
    )


def test_least_connections_gives_an_unhealthy_instance_nothing() -> None:
    lc = balancing.LeastConnections()
    counts = spread(lc, [A, B, C], 300, unhealthy=[A])
    assert counts[A] == 0, "an unhealthy instance gets nothing, even with 0 requests in flight"
    assert counts == {B: 150, C: 150}
    held = spread(lc, [A, B, C], 10, unhealthy={A}, release=False)
    assert held == {B: 5, C: 5}, "requests held in flight also spread over the healthy ones"


def test_least_connections_counts_in_flight_and_never_below_zero() -> None:
    lc = balancing.LeastConnections()
    assert lc.in_flight(A) == 0, "an instance never picked has nothing in flight"
    lc.pick([A])
    lc.pick([A])
    assert lc.in_flight(A) == 2
    for _ in range(5):  # more releases than picks (a double release somewhere)
        lc.release(A)
    lc.release(C)  # never picked at all
    assert lc.in_flight(A) == 0, "the count never goes below zero"
    assert lc.in_flight(C) == 0
    counts = spread(lc, [A, B], 100, release=False)
    assert counts == {A: 50, B: 50}, (
        f"a count that went negative would make A look idle and take everything: got {dict(counts)}"
    )

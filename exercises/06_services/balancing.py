"""06.1 Load-balancing strategies: round robin and least connections.

A client that can reach several instances of a service picks one per request. Both strategies
here take the list of instances *at the moment of the pick* (discovery changes it as instances
come and go) and a set of instances to skip because they are unhealthy; an unhealthy instance
never gets a request, whatever the strategy.

- ``RoundRobin`` hands out the healthy instances in turn: over ``k * n`` picks among ``n``
  healthy instances, each gets exactly ``k``.
- ``LeastConnections`` picks the healthy instance with the fewest requests in flight (picked
  and not yet released); among instances tied for the fewest it takes turns, as round robin
  does, so that requests that finish quickly still spread over every instance.

An instance is a string, e.g. an address ``"10.0.0.7:8001"``. ``pick`` never changes or sorts
the caller's list: "in turn" follows the order of the list as given.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence


class NoHealthyInstance(LookupError):
    """Every instance is unhealthy, or there is none (given).

    The message names how many instances there were, e.g. ``"no healthy instance among 3"``.
    """


class RoundRobin:
    """Takes the healthy instances in turn."""

    def __init__(self) -> None:
        raise NotImplementedError("06.1: keep a turn counter, starting at 0")

    def pick(self, instances: Sequence[str], *, unhealthy: Collection[str] = ()) -> str:
        """The next healthy instance, in the order of ``instances``.

        Instances listed in ``unhealthy`` are skipped: over many picks the healthy ones share
        the traffic evenly (3 instances, 1 unhealthy, 300 picks: 150 and 150). Raises
        NoHealthyInstance(f"no healthy instance among {len(instances)}") when no instance is
        left (an empty list, or all unhealthy).
        """
        raise NotImplementedError("06.1: pick the next healthy instance in turn")

    def release(self, instance: str) -> None:
        """Round robin does not count requests in flight: nothing to do."""
        raise NotImplementedError("06.1: nothing to count here - just return")


class LeastConnections:
    """Takes the healthy instance with the fewest requests in flight."""

    def __init__(self) -> None:
        raise NotImplementedError("06.1: keep a count of requests in flight per instance")

    def pick(self, instances: Sequence[str], *, unhealthy: Collection[str] = ()) -> str:
        """The healthy instance with the fewest requests in flight; it now has one more.

        Ties are broken in turn (round robin among the tied instances, in list order): when
        every request finishes before the next starts, all instances sit at 0 and must still
        share the traffic evenly. Raises NoHealthyInstance (same message as RoundRobin) when no
        instance is left.
        """
        raise NotImplementedError("06.1: pick the least busy healthy instance")

    def release(self, instance: str) -> None:
        """One request to ``instance`` has finished. Releasing more than was picked (or an
        instance never picked) is a no-op: the count never goes below zero."""
        raise NotImplementedError("06.1: one request fewer in flight, never below zero")

    def in_flight(self, instance: str) -> int:
        """Requests picked for ``instance`` and not released yet (0 for one never picked)."""
        raise NotImplementedError("06.1: the count of requests in flight")

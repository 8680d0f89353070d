"""An empty list fails with ZeroDivisionError instead of NoHealthyInstance.

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

from collections import Counter
from collections.abc import Collection, Sequence


class NoHealthyInstance(LookupError):
    """Every instance is unhealthy, or there is none (given).

    The message names how many instances there were, e.g. ``"no healthy instance among 3"``.
    """


def _healthy(instances: Sequence[str], unhealthy: Collection[str]) -> list[str]:
    healthy = [instance for instance in instances if instance not in unhealthy]
    if instances and not healthy:
        raise NoHealthyInstance(f"no healthy instance among {len(instances)}")
    return healthy


class RoundRobin:
    """Takes the healthy instances in turn."""

    def __init__(self) -> None:
        self._turn = 0

    def pick(self, instances: Sequence[str], *, unhealthy: Collection[str] = ()) -> str:
        """The next healthy instance, in the order of ``instances``.

        Instances listed in ``unhealthy`` are skipped: over many picks the healthy ones share
        the traffic evenly (3 instances, 1 unhealthy, 300 picks: 150 and 150). Raises
        NoHealthyInstance(f"no healthy instance among {len(instances)}") when no instance is
        left (an empty list, or all unhealthy).
        """
        healthy = _healthy(instances, unhealthy)
        chosen = healthy[self._turn % len(healthy)]
        self._turn += 1
        return chosen

    def release(self, instance: str) -> None:
        """Round robin does not count requests in flight: nothing to do."""


class LeastConnections:
    """Takes the healthy instance with the fewest requests in flight."""

    def __init__(self) -> None:
        self._in_flight: Counter[str] = Counter()
        self._turn = 0

    def pick(self, instances: Sequence[str], *, unhealthy: Collection[str] = ()) -> str:
        """The healthy instance with the fewest requests in flight; it now has one more.

        Ties are broken in turn (round robin among the tied instances, in list order): when
        every request finishes before the next starts, all instances sit at 0 and must still
        share the traffic evenly. Raises NoHealthyInstance (same message as RoundRobin) when no
        instance is left.
        """
        healthy = _healthy(instances, unhealthy)
        fewest = min(self._in_flight[instance] for instance in healthy)
        tied = [instance for instance in healthy if self._in_flight[instance] == fewest]
        chosen = tied[self._turn % len(tied)]
        self._turn += 1
        self._in_flight[chosen] += 1
        return chosen

    def release(self, instance: str) -> None:
        """One request to ``instance`` has finished. Releasing more than was picked (or an
        instance never picked) is a no-op: the count never goes below zero."""
        if self._in_flight[instance] > 0:
            self._in_flight[instance] -= 1
        if self._in_flight[instance] == 0:
            del self._in_flight[instance]  # instances come and go: do not keep them forever

    def in_flight(self, instance: str) -> int:
        """Requests picked for ``instance`` and not released yet (0 for one never picked)."""
        return self._in_flight[instance]

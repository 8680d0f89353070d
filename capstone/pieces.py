"""The lessons' capstone pieces, as the shop imports them: the one door from capstone/ to the lab.

The last exercise of a lesson builds a piece of the shop (the rate limiter, the outbox relay...).
The capstone keeps only the glue around each piece and asks this module for the piece itself::

    from capstone.pieces import piece

    limits = piece("gateway_limits")          # lesson 08's module
    limiter = limits.SlidingWindowLimiter(redis, prefix=..., limit=60, window_seconds=60)

A piece is the reference solution (``solutions/``) unless the environment variable
``CAPSTONE_MINE`` lists its exercise id (``CAPSTONE_MINE=07.8,08.9``): then it is the learner's
own file in ``exercises/``. ``journey capstone up --mine`` sets it, for every service, to the
pieces whose exercise passes its tests, so a learner's piece that passes runs in the shop and
any other falls back to the reference. The lab's loader (:mod:`journey.targets`) imports the
module, so a piece may use relative imports within its lesson, exactly as the lesson's tests
see it.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Literal

from journey.targets import Target, describe_import_error, lesson_package, source_path

MINE_ENV = "CAPSTONE_MINE"
Whose = Literal["yours", "reference"]


@dataclass(frozen=True)
class Piece:
    """A lesson's last exercise, used by the shop or its checks: where it lives, what uses it."""

    exercise: str  # "08.9"
    lesson: str  # the lesson's folder, "08_security"
    module: str  # the exercise's module in that folder, "gateway_limits"
    used_by: str  # the capstone file that calls it (or the capstone test that runs it)

    @property
    def in_the_shop(self) -> bool:
        """Whether the running shop imports it (else the capstone's tests and CI use it)."""
        return self.used_by.startswith("capstone/")


# The pieces the shop runs on, or is checked by, in lesson order. A test checks each against
# lesson.toml (the exercise id, its lesson and module), so a renumbered lesson cannot leave a
# stale entry here.
PIECES: dict[str, Piece] = {
    p.module: p
    for p in (
        Piece("01.9", "01_fundamentals", "service_settings", "capstone/common/service.py"),
        # the event envelope: orders encode it into the outbox, the notifier decodes it
        Piece("02.9", "02_data_io", "events", "capstone/orders/outbox.py"),
        # the wire models (03.7) that every service's bodies are, and their errors (03.8)
        Piece("03.7", "03_apis", "gateway_models", "capstone/contracts/catalog.py"),
        Piece("03.8", "03_apis", "gateway_contract", "capstone/common/problems.py"),
        # the catalog's storage; it runs on 04.8's unit of work and product model
        Piece("04.9", "04_databases", "catalog_store", "capstone/catalog/repository.py"),
        # the gateway's client for the services behind it
        Piece("05.9", "05_async", "upstream_client", "capstone/gateway/downstream.py"),
        # lesson 06's piece is discovery; it runs on 06.3's registry and 06.1's balancer
        Piece("06.1", "06_services", "balancing", "capstone/common/discovery.py"),
        Piece("06.3", "06_services", "registry", "capstone/common/discovery.py"),
        Piece("06.6", "06_services", "discovery", "capstone/common/discovery.py"),
        Piece("07.7", "07_messaging", "stream_consumer", "capstone/notifier/consumer.py"),
        Piece("07.8", "07_messaging", "outbox_relay", "capstone/orders/outbox.py"),
        Piece("08.8", "08_security", "gateway_auth", "capstone/gateway/security.py"),
        Piece("08.9", "08_security", "gateway_limits", "capstone/gateway/ratelimit.py"),
        # every service's logs, request ids, RED metrics and traces
        Piece("09.8", "09_observability", "telemetry", "capstone/common/observability.py"),
        # checks the shop's deployment files rather than running in it
        Piece("10.8", "10_containers", "deploy_check", "tests/capstone/test_deploy_files.py"),
        # runs as CI's contract tests against the gateway
        Piece("11.8", "11_testing", "shop_contract_test", "tests/capstone/test_contract.py"),
        # lesson 12's piece is the resilient client; it retries by 12.8's policy
        Piece("12.8", "12_resilience", "retry_policy", "capstone/orders/inventory_client.py"),
        Piece("12.9", "12_resilience", "resilient_client", "capstone/orders/inventory_client.py"),
    )
}


class PieceError(ImportError):
    """A piece cannot be imported (or ``CAPSTONE_MINE`` names no piece); the message says which
    exercise and why."""


def mine() -> frozenset[str]:
    """The exercise ids ``CAPSTONE_MINE`` lists: the pieces that run as the learner's."""
    listed = {part.strip() for part in os.environ.get(MINE_ENV, "").split(",") if part.strip()}
    unknown = sorted(listed - {p.exercise for p in PIECES.values()})
    if unknown:
        known = ", ".join(p.exercise for p in PIECES.values())
        raise PieceError(f"{MINE_ENV} names {', '.join(unknown)}: not a capstone piece ({known})")
    return frozenset(listed)


def whose(name: str) -> Whose:
    """``yours`` when the piece runs from ``exercises/``, ``reference`` from ``solutions/``."""
    return "yours" if _find(name).exercise in mine() else "reference"


def target_of(name: str) -> Target:
    return "exercises" if whose(name) == "yours" else "solutions"


def piece(name: str) -> ModuleType:
    """The module of the piece ``name`` (a key of :data:`PIECES`): the learner's when
    ``CAPSTONE_MINE`` lists its exercise, else the reference solution."""
    found = _find(name)
    target = target_of(name)
    try:
        package = lesson_package(found.lesson, target)
        return importlib.import_module(f"{package}.{found.module}")
    except Exception as error:
        where = "your" if target == "exercises" else "the reference"
        raise PieceError(
            f"capstone piece {found.exercise} ({found.module}): {where} version cannot be"
            f" imported: {describe_import_error(error)}"
        ) from error


def piece_file(name: str) -> Path:
    """The file of the piece ``name``, whoever's runs, without importing it: a piece that is a
    test file (lesson 11's contract tests) is handed to pytest rather than imported."""
    found = _find(name)
    return source_path(found.lesson, found.module, target_of(name))


def lesson_module(name: str, module: str) -> ModuleType:
    """Another module of the piece ``name``'s lesson, from the same side as the piece: the
    lesson's earlier exercises that the piece builds on, as the piece itself sees them."""
    package = piece(name).__package__
    return importlib.import_module(f"{package}.{module}")


def which() -> list[tuple[Piece, Whose]]:
    """Every piece with whose version runs, in lesson order."""
    return [(p, whose(p.module)) for p in PIECES.values()]


def _find(name: str) -> Piece:
    try:
        return PIECES[name]
    except KeyError:
        known = ", ".join(PIECES)
        raise PieceError(f"no capstone piece {name!r}; the pieces are {known}") from None

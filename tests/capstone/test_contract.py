"""The gateway keeps its contract (lesson 11: contract tests): schemathesis generates requests
from the gateway's own OpenAPI document and sends them to the session's running shop.

The tests are lesson 11's capstone piece (exercise 11.8, ``shop_contract_test``), run the way
the lesson says to run them against a running API: pytest on the piece's file, with
``CONTRACT_BASE_URL`` naming the gateway and ``CONTRACT_TOKEN`` an admin's token (so the
generated requests get past authentication and the admin's scope). It is the reference
solution, or the learner's own with ``CAPSTONE_MINE=11.8``.

Every generated answer must pass the piece's checks: no server error, a documented status, a
documented content type, a body that matches the documented schema, and problem+json for every
error. Hypothesis runs derandomized, so a failure seen once is seen again on every machine.
This test adds only what the shop asks beyond the lesson: a hundred examples per operation, and
at least a thousand cases past authentication, counted by the gateway itself (its request
metrics).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from capstone import pieces
from journey.catalog import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

MIN_CASES = 1_000
# per operation: twelve operations take parameters or a body, and /users/me, without any, is
# one case
EXAMPLES_PER_OPERATION = 100
API = "/api/v1"
# The lesson's test of every operation with a token. Its other test (each secured operation
# without a token is a 401) sends 700 more requests, too dear for CI: the lesson runs it, and
# tests/capstone/test_flows.py and test_safety.py check anonymous calls to the shop.
CONTRACT_TEST = "test_valid_requests_get_documented_answers"
# the lab's pytest settings without its notebook plugin, which takes seconds to load
PYTEST = [
    sys.executable,
    "-m",
    "pytest",
    "-q",
    "-o",
    "addopts=-p journey.pytest_plugin --import-mode=importlib --strict-markers",
    "-p",
    "no:nbmake",
    "-p",
    "no:randomly",
    "-p",
    "no:cacheprovider",
]


def authenticated_requests(shop) -> int:
    """How many requests to the public API the gateway has answered with anything but 401, by
    its own metrics: the requests that got past authentication."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    from capstone.common.internal import INTERNAL_TOKEN_HEADER

    token = shop.system.config.internal_token
    metrics = httpx.get(f"{shop.gateway}/metrics", headers={INTERNAL_TOKEN_HEADER: token})
    metrics.raise_for_status()
    return sum(
        int(sample.value)
        for family in text_string_to_metric_families(metrics.text)
        for sample in family.samples
        if sample.name == "http_requests_total"
        and sample.labels.get("route", "").startswith(API)
        and sample.labels.get("status") != "401"
    )


def test_the_gateway_conforms_to_its_openapi_document(shop):
    contract_tests = pieces.piece_file("shop_contract_test")
    admin_token = shop.admin()["Authorization"].removeprefix("Bearer ")
    before = authenticated_requests(shop)
    done = subprocess.run(
        [*PYTEST, str(contract_tests), "-k", CONTRACT_TEST],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "JOURNEY_TARGET": pieces.target_of("shop_contract_test"),
            "CONTRACT_BASE_URL": shop.gateway,
            "CONTRACT_TOKEN": admin_token,
            "CONTRACT_EXAMPLES": str(EXAMPLES_PER_OPERATION),
        },
    )
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-5_000:]
    sent = authenticated_requests(shop) - before
    assert sent >= MIN_CASES, f"only {sent} cases got past authentication"

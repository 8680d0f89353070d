"""The gateway keeps its contract (lesson 11: contract tests): schemathesis generates requests
from the gateway's own OpenAPI document and sends them to the session's running shop.

Over at least a thousand generated cases: no answer is a server error, and every answer conforms
to the document: a documented status, a documented content type, a body that matches the
documented schema (problem+json for every error). Hypothesis runs derandomized, so a failure
seen once is seen again on every machine.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

MIN_CASES = 1_000
# twelve operations take parameters or a body (1,200 cases); /users/me, without any, is one
EXAMPLES_PER_OPERATION = 100
USERS = 4  # order placing is rate-limited per user: spread the generated orders


def test_old_contract(shop):
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    schema = schemathesis.openapi.from_url(f"{shop.gateway}/openapi.json")
    admin = shop.admin()
    users = itertools.cycle([shop.user() for _ in range(USERS)])
    session = requests.Session()  # keep-alive: one connection for every case
    sent: Counter[str] = Counter()
    failures: list[str] = []

    def token_for(case: Any) -> dict[str, str]:
        """A valid token, so the generated requests get past authentication: an admin's for
        admin operations, one of several users' for the rest."""
        if case.operation.method.upper() in ("POST", "PATCH", "PUT") and "/products" in str(
            case.operation.path
        ):
            return admin
        return next(users)

    def explore(operation: Any) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def conforms(case: Any) -> None:
            headers = token_for(case)  # public operations ignore it
            response = case.call(session=session, headers=headers, timeout=30)
            sent[operation.label] += 1
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except Exception as error:
                failures.append(f"{operation.label}: {str(error)[:1500]}")
                raise

        conforms()

    for result in schema.get_all_operations():
        operation = result.ok()
        before = len(failures)
        try:
            explore(operation)
        except Exception:
            if len(failures) == before:
                raise  # not a contract failure: a broken test
            # else keep going, so one run reports every operation that fails

    session.close()
    total = sum(sent.values())
    assert not failures, "\n\n".join(failures)
    assert total >= MIN_CASES, f"only {total} cases: {dict(sent)}"

"""Checks only for server errors: undocumented statuses and bodies that break their schema pass."""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from journey.targets import load

shop_api = load(__file__, "shop_api")

# The same tests check a running API (the capstone's gateway, say) when it is named here:
#   CONTRACT_BASE_URL=http://127.0.0.1:8000 CONTRACT_TOKEN=<a token> uv run pytest <this file>
BASE_URL = os.environ.get("CONTRACT_BASE_URL", "").rstrip("/")
TOKEN = os.environ.get("CONTRACT_TOKEN", "test-token")
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "10"))
PROBLEM_JSON = "application/problem+json"


def _schema() -> Any:
    if BASE_URL:
        return schemathesis.openapi.from_url(f"{BASE_URL}/openapi.json")
    return schemathesis.openapi.from_asgi("/openapi.json", shop_api.create_app(token=TOKEN))


SCHEMA = _schema()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Reproducible runs, as a CI needs: the same examples every time (and no example database),
# and no time spent shrinking a failure: schemathesis's report already shows the request.
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
# One HTTP session for every case: against a running API its connection is kept alive, instead
# of a new one per request (in-process, it only configures the call).
SESSION = requests.Session()


def _label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


@schemathesis.check
def errors_are_problem_details(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error answers application/problem+json with a type, a title and its status."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith(PROBLEM_JSON), f"an error answered {content_type!r}"
    body = response.json()
    assert {"type", "title", "status"} <= body.keys(), f"not problem details: {body}"
    assert body["status"] == response.status_code, "the problem's status is the answer's"
    return None


CHECKS = [checks.not_a_server_error]


@pytest.mark.parametrize("operation", OPERATIONS, ids=_label)
def test_valid_requests_get_documented_answers(operation: Any) -> None:
    @FUZZ
    @given(case=operation.as_strategy())
    def exchange(case: Any) -> None:
        case.call_and_validate(session=SESSION, headers=AUTH, checks=CHECKS)

    exchange()


@pytest.mark.parametrize(
    "operation", [op for op in OPERATIONS if op.definition.raw.get("security")], ids=_label
)
def test_writes_need_a_token(operation: Any) -> None:
    @FUZZ
    @given(case=operation.as_strategy())
    def exchange(case: Any) -> None:
        response = case.call(session=SESSION)
        assert response.status_code == 401, f"{_label(operation)} answered without a token"
        case.validate_response(response, checks=CHECKS)

    exchange()

"""11.8 Contract tests of a gateway-shaped API (capstone): schemathesis reads the OpenAPI
document, generates requests from it, and checks every answer against it.

The code under test is ``shop_api.py`` beside this file: a small API shaped like the capstone's
gateway (bearer tokens, paged lists, errors as ``application/problem+json``). Its contract is
its OpenAPI document (``/openapi.json``) plus the ``create_app`` docstring. Schemathesis turns
each operation of the document into a Hypothesis strategy of requests
(``operation.as_strategy()``); ``case.call_and_validate(headers=..., checks=[...])`` sends one
and runs the checks you name on the answer. A failed check raises, and the test fails with a
report that shows the request (as a curl command) and what was wrong.

These tests must not know more than the document: a correct API may make its cursors, word its
errors, or order its fields in another way than the one you read. Keep them that way and the
same file checks the capstone's gateway too (see the lesson's README, "In the capstone").

Keep the runs short and reproducible: the settings in ``FUZZ`` below (few examples,
derandomized, no shrinking) are the ones a CI job wants.
"""

from __future__ import annotations

import os
from typing import Any

import pytest  # noqa: F401 - the tests you write will use them
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings  # noqa: F401
from schemathesis import checks  # noqa: F401

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


@schemathesis.check
def errors_are_problem_details(ctx: Any, response: Any, case: Any) -> bool | None:
    """A check of your own, for what the gateway promises beyond the document: every answer
    of 400 or more is ``application/problem+json`` (``response.headers["content-type"]`` is a
    list), with ``type``, ``title`` and ``status`` in its body, and ``status`` equal to the
    answer's. Raise ``AssertionError`` when it is not; return ``None`` when it is."""
    raise NotImplementedError("11.8: check the content type and the body of every error")


# The checks every answer must pass: from schemathesis.checks (not_a_server_error,
# status_code_conformance, content_type_conformance, response_schema_conformance...) and yours.
CHECKS: list[Any] = []


def test_valid_requests_get_documented_answers() -> None:
    """Parametrize over ``OPERATIONS`` (ids like ``"GET /api/v1/products"``); inside, define
    a function decorated with ``@FUZZ`` and ``@given(case=operation.as_strategy())`` that calls
    ``case.call_and_validate(session=SESSION, headers=AUTH, checks=CHECKS)``, and call it."""
    raise NotImplementedError("11.8: fill CHECKS, then fuzz every operation with them")


def test_writes_need_a_token() -> None:
    """Parametrize over the operations whose document asks for a token
    (``operation.definition.raw.get("security")``): sent without ``AUTH``
    (``response = case.call(session=SESSION)``), each answers 401, and the answer still passes
    ``CHECKS`` (``case.validate_response(response, checks=CHECKS)``)."""
    raise NotImplementedError("11.8: call each secured operation without a token")

"""11.5 Test an HTTP API client (core): ``httpx.MockTransport`` (a function that answers the
client's requests in-process) and respx (which mocks httpx itself), an injected ``sleep``, and
who closes what.

The code under test is ``rates_client.py`` beside this file; the ``RatesClient`` docstring is
the contract. No test may reach a network: hand the client an
``httpx.Client(transport=httpx.MockTransport(handler))``, where ``handler(request)`` returns
an ``httpx.Response`` and can record each request, or wrap the test in
``with respx.mock(base_url=BASE_URL) as api:``. Never let it really sleep either: pass
``sleep=`` a function that records the seconds.

A correct client may send more headers and query parameters than the one you read: check the
ones the contract names (``request.url.path``, ``request.headers["authorization"]``), not the
whole URL or every header.
"""

from __future__ import annotations

import httpx  # noqa: F401 - the tests you write will use them
import pytest  # noqa: F401
import respx  # noqa: F401

from journey.targets import load

rates_client = load(__file__, "rates_client")

BASE_URL = "https://rates.example.test"
API_KEY = "test-key"


def test_asks_for_the_rate_with_the_key() -> None:
    """``rate("eur", "usd")`` sends one GET to ``/v1/rates/EUR/USD`` on the API's host with
    ``Authorization: Bearer <key>``, and returns the rate as a ``Decimal``."""
    raise NotImplementedError("11.5: record the request in a MockTransport handler")


def test_the_rate_keeps_the_digits_sent() -> None:
    """Parametrize over a JSON body whose rate is a number (``{"rate": 0.1}``) and one whose
    rate is a string (``{"rate": "0.1"}``): both give exactly ``Decimal("0.1")``."""
    raise NotImplementedError("11.5: answer with both kinds of body")


def test_an_unknown_currency_is_its_own_error() -> None:
    """A 404 answer raises ``rates_client.UnknownCurrency``."""
    raise NotImplementedError("11.5: answer 404")


def test_a_server_error_is_a_rates_error() -> None:
    """A 5xx answer raises ``rates_client.RatesError``."""
    raise NotImplementedError("11.5: answer 503")


def test_waits_as_long_as_retry_after_says() -> None:
    """429 with ``Retry-After: 7``, then 429 without the header, then 200: the client sleeps
    7 then 1 second(s) (record them), makes three requests and returns the rate."""
    raise NotImplementedError("11.5: script three answers and record the sleeps")


def test_gives_up_after_max_attempts() -> None:
    """Parametrize over ``max_attempts`` (include 1): only 429 answers make exactly
    ``max_attempts`` requests, then ``rates_client.RateLimited``, with no sleep after the last
    attempt."""
    raise NotImplementedError("11.5: count the requests and the sleeps")


def test_a_connection_error_is_a_rates_error() -> None:
    """A transport error (respx: ``.mock(side_effect=httpx.ConnectError("refused"))``) raises
    ``rates_client.RatesError``."""
    raise NotImplementedError("11.5: make the request fail with respx")


def test_closing_leaves_a_given_client_open() -> None:
    """After ``with RatesClient(..., client=http):``, ``http`` is still open (``is_closed``):
    the caller made it, the caller closes it."""
    raise NotImplementedError("11.5: use the client in a with block, then check http")

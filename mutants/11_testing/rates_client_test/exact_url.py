"""Expects the whole URL to the letter, where a correct client may add query parameters."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from journey.targets import load

rates_client = load(__file__, "rates_client")

BASE_URL = "https://rates.example.test"
API_KEY = "test-key"


class _Api:
    """A fake rates API: answers with ``responses`` in turn and keeps every request."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0)


def _client(
    api: Callable[[httpx.Request], httpx.Response],
    slept: list[float] | None = None,
    **options: int,
) -> Any:
    http = httpx.Client(transport=httpx.MockTransport(api))
    sleep = slept.append if slept is not None else _no_sleep
    return rates_client.RatesClient(BASE_URL, API_KEY, client=http, sleep=sleep, **options)


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"slept {seconds} s where no wait was due")


def test_asks_for_the_rate_with_the_key() -> None:
    api = _Api(httpx.Response(200, json={"rate": "1.0845"}))
    assert _client(api).rate("eur", "usd") == Decimal("1.0845")
    (request,) = api.requests
    assert request.method == "GET"
    assert str(request.url) == "https://rates.example.test/v1/rates/EUR/USD"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize("body", ['{"rate": 0.1}', '{"rate": "0.1"}'], ids=["number", "string"])
def test_the_rate_keeps_the_digits_sent(body: str) -> None:
    api = _Api(httpx.Response(200, text=body, headers={"content-type": "application/json"}))
    rate = _client(api).rate("EUR", "GBP")
    assert rate == Decimal("0.1"), "exactly the digits the API sent, never through a float"


def test_an_unknown_currency_is_its_own_error() -> None:
    api = _Api(httpx.Response(404, json={"detail": "no such currency"}))
    with pytest.raises(rates_client.UnknownCurrency):
        _client(api).rate("EUR", "XYZ")


def test_a_server_error_is_a_rates_error() -> None:
    api = _Api(httpx.Response(503))
    with pytest.raises(rates_client.RatesError):
        _client(api).rate("EUR", "USD")


def test_waits_as_long_as_retry_after_says() -> None:
    api = _Api(
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(429),
        httpx.Response(200, json={"rate": "2.5"}),
    )
    slept: list[float] = []
    assert _client(api, slept).rate("EUR", "USD") == Decimal("2.5")
    assert slept == [7, 1], "Retry-After's seconds, then 1 when the header is missing"
    assert len(api.requests) == 3


@pytest.mark.parametrize("max_attempts", [1, 3])
def test_gives_up_after_max_attempts(max_attempts: int) -> None:
    api = _Api(*[httpx.Response(429, headers={"Retry-After": "2"})] * (max_attempts + 1))
    slept: list[float] = []
    client = _client(api, slept, max_attempts=max_attempts)
    with pytest.raises(rates_client.RateLimited):
        client.rate("EUR", "USD")
    assert len(api.requests) == max_attempts
    assert slept == [2] * (max_attempts - 1), "no wait after the last attempt"


def test_a_connection_error_is_a_rates_error() -> None:
    with respx.mock(base_url=BASE_URL) as api:
        api.get("/v1/rates/EUR/USD").mock(side_effect=httpx.ConnectError("refused"))
        client = rates_client.RatesClient(BASE_URL, API_KEY, sleep=_no_sleep)
        with client, pytest.raises(rates_client.RatesError):
            client.rate("EUR", "USD")


def test_closing_leaves_a_given_client_open() -> None:
    api = _Api(httpx.Response(200, json={"rate": "1"}))
    http = httpx.Client(transport=httpx.MockTransport(api))
    with rates_client.RatesClient(BASE_URL, API_KEY, client=http, sleep=_no_sleep) as client:
        client.rate("EUR", "USD")
    assert not http.is_closed, "the caller made it, so the caller closes it"
    http.close()

"""A correct client that sends extra headers and a query parameter, and counts its attempts
down."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx


class RatesError(Exception):
    pass


class UnknownCurrency(RatesError):
    pass


class RateLimited(RatesError):
    pass


class RatesClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 3,
    ) -> None:
        if max_attempts <= 0:
            raise ValueError("at least one attempt")
        self._base = httpx.URL(base_url.rstrip("/") + "/")
        self._key = api_key
        self._sleep = sleep
        self._attempts = max_attempts
        self._given = client
        self._client = client or httpx.Client(timeout=httpx.Timeout(3.0))

    def rate(self, base: str, quote: str) -> Decimal:
        url = self._base.join(f"v1/rates/{base.upper()}/{quote.upper()}")
        headers = {
            "accept": "application/json",
            "user-agent": "rates-client/2",
            "authorization": "Bearer " + self._key,
        }
        left = self._attempts
        while True:
            left -= 1
            try:
                answer = self._client.request(
                    "GET", url, params={"precision": "full"}, headers=headers
                )
            except httpx.TransportError as error:
                raise RatesError(str(error)) from error
            if answer.status_code == 429 and left:
                self._sleep(float(answer.headers.get("retry-after") or 1))
                continue
            if answer.status_code == 429:
                raise RateLimited("gave up")
            if answer.status_code == 404:
                raise UnknownCurrency(f"{base}/{quote}")
            if not answer.is_success:
                raise RatesError(f"status {answer.status_code}")
            value: Any = answer.json(parse_float=str, parse_int=str)["rate"]
            return Decimal(str(value))

    def close(self) -> None:
        if self._given is None:
            self._client.close()

    def __enter__(self) -> RatesClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

"""Waits a fixed second before trying again, whatever Retry-After the API asked for."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from types import TracebackType

import httpx


class RatesError(Exception):
    """The API answered with an error, or could not be reached."""


class UnknownCurrency(RatesError):
    """The API does not know one of the currencies (it answered 404)."""


class RateLimited(RatesError):
    """The API still answered 429 (too many requests) after the last attempt."""


class RatesClient:
    """Asks an exchange-rates API for rates.

    - ``rate(base, quote)`` sends ``GET {base_url}/v1/rates/{BASE}/{QUOTE}`` (the codes
      upper-cased) with the header ``Authorization: Bearer {api_key}``. A 200 answer's JSON is
      ``{"rate": ...}``, a string (``"1.0845"``) or a number (``1.0845``); the ``Decimal``
      returned has exactly the digits the API sent, never a float's approximation.
    - 404 is ``UnknownCurrency``. 429 means "wait": ``sleep(seconds)`` for the answer's
      ``Retry-After`` header (a number of seconds; 1 when it is missing), then try again, for at
      most ``max_attempts`` requests in all; after the last one, ``RateLimited``. Any other
      status of 400 or more, and a transport error (``httpx.TransportError``), is
      ``RatesError``.
    - ``client``: the ``httpx.Client`` to send through (a test passes one built on an
      ``httpx.MockTransport``). Without one, the ``RatesClient`` makes its own. ``close()``, and
      leaving a ``with`` block, close a client it made, never one it was given.

    Other headers, query parameters and error messages are not part of the contract.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 3,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=5.0)

    def rate(self, base: str, quote: str) -> Decimal:
        url = f"{self.base_url}/v1/rates/{base.upper()}/{quote.upper()}"
        headers = {"Authorization": f"Bearer {self.api_key}"}
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._client.get(url, headers=headers)
            except httpx.TransportError as error:
                raise RatesError(f"cannot reach the rates API: {error}") from error
            if response.status_code == 429:
                if attempt == self.max_attempts:
                    break
                self._sleep(1.0)
                continue
            if response.status_code == 404:
                raise UnknownCurrency(f"no rate for {base}/{quote}")
            if response.status_code >= 400:
                raise RatesError(f"the rates API answered {response.status_code}")
            # parse_float keeps a number's digits: Decimal("0.1"), not Decimal(0.1)
            rate = json.loads(response.text, parse_float=Decimal)["rate"]
            return Decimal(rate)
        raise RateLimited(f"still rate-limited after {self.max_attempts} attempts")

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> RatesClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

"""12.8 RetryPolicy and the retryable predicates (capstone piece, stage 1).

The predicates are checked against real failures: a refused TCP connection, a loopback HTTP
service, and a loopback gRPC server that answers with the status codes the capstone sees.
"""

from __future__ import annotations

import asyncio

import pytest

from journey.targets import load

policy_module = load(__file__, "retry_policy")
RetryPolicy = policy_module.RetryPolicy


# -- the policy -----------------------------------------------------------------------------


def test_a_retryable_failure_gets_a_full_jitter_pause() -> None:
    policy = RetryPolicy(attempts=5, base_delay=0.1, max_delay=10.0)
    pauses = [
        policy.next_delay(n, ConnectionError(), remaining=60.0, random=lambda: 0.5)
        for n in (1, 2, 3)
    ]
    assert pauses == pytest.approx([0.05, 0.1, 0.2]), (
        "after attempt n the pause is random() * min(max_delay, base_delay * 2 ** (n - 1)): "
        f"with random()=0.5, 0.05, 0.1, 0.2; got {pauses}"
    )


def test_the_pause_is_capped_by_max_delay() -> None:
    policy = RetryPolicy(attempts=20, base_delay=0.1, max_delay=0.3)
    pause = policy.next_delay(10, TimeoutError(), remaining=60.0, random=lambda: 0.999)
    assert pause == pytest.approx(0.2997), "the window never grows past max_delay"


def test_a_failure_that_is_not_retryable_stops_at_once() -> None:
    policy = RetryPolicy(attempts=5)
    assert policy.next_delay(1, ValueError("bad"), remaining=60.0, random=lambda: 0.5) is None, (
        "a ValueError will fail the same way again: None, no retry"
    )


def test_the_custom_predicate_decides() -> None:
    class Busy(Exception):
        pass

    policy = RetryPolicy(attempts=3, retryable=lambda e: isinstance(e, Busy))
    assert policy.next_delay(1, Busy(), remaining=60.0, random=lambda: 0.5) is not None
    assert policy.next_delay(1, ConnectionError(), remaining=60.0, random=lambda: 0.5) is None


def test_after_the_last_attempt_it_stops() -> None:
    policy = RetryPolicy(attempts=3)
    assert policy.next_delay(2, ConnectionError(), remaining=60.0, random=lambda: 0.5) is not None
    assert policy.next_delay(3, ConnectionError(), remaining=60.0, random=lambda: 0.5) is None, (
        "attempts=3: after the 3rd attempt there is no 4th"
    )
    once = RetryPolicy(attempts=1)
    assert once.next_delay(1, ConnectionError(), remaining=60.0, random=lambda: 0.5) is None


def test_a_pause_that_reaches_the_deadline_stops() -> None:
    policy = RetryPolicy(attempts=5, base_delay=1.0, max_delay=1.0)
    assert policy.next_delay(1, ConnectionError(), remaining=0.5, random=lambda: 0.6) is None, (
        "a 0.6 s pause with 0.5 s left would start the next attempt after the deadline"
    )
    assert policy.next_delay(1, ConnectionError(), remaining=0.5, random=lambda: 0.5) is None, (
        "a pause of exactly the time left leaves no time for the attempt"
    )
    assert policy.next_delay(
        1, ConnectionError(), remaining=0.5, random=lambda: 0.4
    ) == pytest.approx(0.4), "0.4 s fits in the 0.5 s left"


def test_next_delay_never_sleeps_itself() -> None:
    policy = RetryPolicy(attempts=3, base_delay=50.0, max_delay=50.0)

    async def main() -> float | None:
        async with asyncio.timeout(2):
            return policy.next_delay(1, ConnectionError(), remaining=100.0, random=lambda: 0.9)

    assert asyncio.run(main()) == pytest.approx(45.0), "it returns the pause, the caller sleeps"


@pytest.mark.parametrize(
    "bad",
    [
        {"attempts": 0},
        {"base_delay": 0},
        {"base_delay": -0.1},
        {"base_delay": 1.0, "max_delay": 0.5},
    ],
)
def test_bad_policies_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        RetryPolicy(**bad)


# -- retryable_http, on real failures -------------------------------------------------------


def test_a_refused_connection_is_retryable(closed_port: int, http_client) -> None:
    import httpx

    async def main() -> BaseException:
        async with http_client() as client:
            try:
                await client.get(f"http://127.0.0.1:{closed_port}/")
            except httpx.HTTPError as error:
                return error
        raise AssertionError("nothing listens there: the call must fail")

    error = asyncio.run(main())
    assert policy_module.retryable_http(error), (
        f"{type(error).__name__} (connection refused) may pass: retryable"
    )


RETRYABLE_STATUSES = {
    503: True,
    502: True,
    504: True,
    429: True,
    500: False,
    404: False,
    409: False,
    400: False,
}


def test_statuses_that_may_pass_are_retryable(serve, http_client) -> None:
    import httpx

    async def app(scope, receive, send) -> None:
        status = int(scope["path"].strip("/"))  # GET /503 answers 503
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def main() -> dict[int, BaseException]:
        errors = {}
        async with serve(app) as base, http_client(base_url=base) as client:
            for status in RETRYABLE_STATUSES:
                try:
                    (await client.get(f"/{status}")).raise_for_status()
                except httpx.HTTPStatusError as error:
                    errors[status] = error
        return errors

    errors = asyncio.run(main())
    verdicts = {status: policy_module.retryable_http(error) for status, error in errors.items()}
    assert verdicts == RETRYABLE_STATUSES, (
        "only 429, 502, 503 and 504 mean 'try again later'; a 500 is a bug and a 4xx a "
        f"refusal that will not change. Expected {RETRYABLE_STATUSES}, got {verdicts}"
    )


def test_http_timeouts_are_retryable_and_other_errors_are_not() -> None:
    import httpx

    request = httpx.Request("GET", "http://x.test/")
    assert policy_module.retryable_http(httpx.ReadTimeout("slow", request=request))
    assert policy_module.retryable_http(httpx.RemoteProtocolError("cut", request=request))
    assert policy_module.retryable_http(TimeoutError())
    assert not policy_module.retryable_http(ValueError("bad json"))
    assert not policy_module.retryable_http(KeyError("id"))


# -- retryable_grpc, on a real gRPC server --------------------------------------------------


def grpc_failure(grpc_server, code_name: str) -> BaseException:
    """Calls a loopback gRPC method that aborts with `code_name`; returns the client's error."""
    import grpc

    async def aborts(request: bytes, context) -> bytes:
        await context.abort(getattr(grpc.StatusCode, code_name), f"failing with {code_name}")

    async def main() -> BaseException:
        async with (
            grpc_server({"Call": aborts}) as target,
            grpc.aio.insecure_channel(target) as channel,
        ):
            call = channel.unary_unary("/test.Flaky/Call")
            try:
                await call(b"ping", timeout=5)
            except grpc.RpcError as error:
                return error
        raise AssertionError("the method aborts: the call must fail")

    return asyncio.run(main())


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("UNAVAILABLE", True),
        ("RESOURCE_EXHAUSTED", True),
        ("DEADLINE_EXCEEDED", True),
        ("FAILED_PRECONDITION", False),
        ("INVALID_ARGUMENT", False),
        ("NOT_FOUND", False),
        ("INTERNAL", False),
    ],
)
def test_grpc_codes_that_may_pass_are_retryable(grpc_server, code: str, retryable: bool) -> None:
    error = grpc_failure(grpc_server, code)
    assert policy_module.retryable_grpc(error) is retryable, (
        f"gRPC {code} is {'retryable' if retryable else 'not retryable'}: "
        "UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED may pass, "
        "FAILED_PRECONDITION (insufficient stock) and the like never will"
    )


def test_a_grpc_server_that_is_not_there_is_retryable(closed_port: int) -> None:
    import grpc

    async def main() -> BaseException:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{closed_port}") as channel:
            try:
                await channel.unary_unary("/test.Flaky/Call")(b"ping", timeout=5)
            except grpc.RpcError as error:
                return error
        raise AssertionError("nothing listens there")

    error = asyncio.run(main())
    assert policy_module.retryable_grpc(error), "connection refused is UNAVAILABLE: retryable"
    assert not policy_module.retryable_grpc(ValueError("bad")), "a ValueError is not"
    assert policy_module.retryable_grpc(ConnectionError()), "ConnectionError is retryable"

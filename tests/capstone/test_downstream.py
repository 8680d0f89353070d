"""The gateway's calls to the internal services: one crash must not spoil the calls after it.

A tiny service made with the shop's own app factory runs on a free port beside the test; the
gateway's :class:`Downstream` client calls it. No database or Redis is needed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import structlog
from fastapi import BackgroundTasks  # module level: the route's annotation names it

from capstone.runner import free_port

FOLLOW_UPS = 30
ROUNDS = 10


def _crashing_service() -> object:
    """``/boom`` fails with an unhandled error (answered 500 by the problem handler);
    ``/late-boom`` answers 200, then its background task fails (the server closes the connection
    without having said so in the answer); ``/ok`` answers 200."""
    from capstone.common.service import create_app

    app = create_app("boom", lifespan=None, checks={})

    def fail() -> None:
        raise RuntimeError("a bug in a background task")

    @app.get("/boom")
    async def boom() -> dict[str, str]:
        raise RuntimeError("a bug in the service")

    @app.get("/late-boom")
    async def late_boom(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(fail)
        return {"ok": "for now"}

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"ok": "yes"}

    return app


@contextmanager
def _serving(app: object) -> Iterator[str]:
    """The app on the shop's server stack, on a free loopback port, in a thread of its own (its
    own event loop, like a separate process: the client does not get to wait for it)."""
    from capstone.common.service import server_for
    from capstone.common.settings import ServiceSettings

    port = free_port()
    server = server_for(app, "127.0.0.1", port, ServiceSettings(shutdown_grace_seconds=1))
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:  # wait on the condition, with a deadline
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the service did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def _status(service: object, path: str) -> int:
    """The status the gateway would answer: the service's, or the problem it raised (502...)."""
    from capstone.common.problems import Problem

    try:
        reply = await service.call("GET", path)  # type: ignore[attr-defined]
    except Problem as problem:
        return problem.status
    return int(reply.status_code)


async def _crash_then_follow_up(crash: str, concurrent: bool) -> list[int]:
    from capstone.gateway.downstream import Downstream

    # the logs are captured, not rendered: structlog's console traceback takes a second each
    with structlog.testing.capture_logs(), _serving(_crashing_service()) as url:
        service = Downstream("boom", url, timeout_seconds=5.0, internal_token="t" * 32)
        try:
            statuses = []
            for _ in range(ROUNDS):  # a few rounds: the race it guards against is timing-dependent
                assert await _status(service, crash) == (500 if crash == "/boom" else 200)
                if concurrent:
                    calls = (_status(service, "/ok") for _ in range(FOLLOW_UPS))
                    statuses += await asyncio.gather(*calls)
                else:
                    statuses += [await _status(service, "/ok") for _ in range(FOLLOW_UPS)]
            return statuses
        finally:
            await service.close()


@pytest.mark.parametrize("concurrent", [False, True], ids=["one-by-one", "all-at-once"])
@pytest.mark.parametrize("crash", ["/boom", "/late-boom"], ids=["500", "after-its-answer"])
def test_a_downstream_crash_does_not_poison_the_next_calls(crash: str, concurrent: bool) -> None:
    """After a service crashes (a 500, or an error once it has answered), every call after it
    succeeds: the gateway never loses a request to the connection the service is closing."""
    statuses = asyncio.run(_crash_then_follow_up(crash, concurrent))
    failed = [s for s in statuses if s != 200]
    assert not failed, f"{len(failed)} of {len(statuses)} follow-up calls failed: {set(failed)}"


def test_a_500_for_an_unhandled_error_closes_the_connection() -> None:
    """The service says ``Connection: close`` on that answer, since it closes the connection
    right after: a client then never reuses it, whatever its method (a POST is not retried)."""
    import httpx

    with structlog.testing.capture_logs(), _serving(_crashing_service()) as url:
        reply = httpx.get(f"{url}/boom", timeout=5.0)
    assert reply.status_code == 500
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.headers["connection"] == "close"

"""Why a retried POST needs an idempotency key, and why checking for the key is not enough.

Run: uv run python lessons/12_resilience/examples/04_idempotent_retries.py

A payments service on loopback charges a card for each `POST /charges`. The client's first
answer is lost on the way back (the transport raises ReadError after the server has charged),
so the client retries, as it should.

1. Without a key the retry charges the card a second time.
2. With an `Idempotency-Key` that the server remembers (here in a dict), the retry gets the
   first answer back: one charge.
3. But "is the key known? no: charge, then remember" is two steps with an `await` in between.
   Twenty copies of one request arriving together all find the key unknown and all charge.
   Exercise 12.6 claims the key in one atomic step in Redis (`SET key value NX`), so exactly
   one request runs and the others wait for its answer.
"""

from __future__ import annotations

import asyncio
import socket
import uuid

import httpx
import uvicorn
from fastapi import FastAPI, Header
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_fixed


def payments_app() -> FastAPI:
    app = FastAPI()
    app.state.charges = []
    answers: dict[str, dict] = {}  # Idempotency-Key -> the answer given (in memory: one process)

    @app.post("/charges", status_code=201)
    async def charge(order: dict, idempotency_key: str | None = Header(default=None)) -> dict:
        if idempotency_key is not None and idempotency_key in answers:
            return answers[idempotency_key]  # a repeat: the first answer, nothing charged
        await asyncio.sleep(0.05)  # talking to the card network
        charge_id = uuid.uuid4().hex[:8]
        app.state.charges.append((charge_id, order["amount"]))
        answer = {"charge": charge_id, "amount": order["amount"]}
        if idempotency_key is not None:
            answers[idempotency_key] = answer
        return answer

    return app


class LosesFirstAnswer(httpx.AsyncBaseTransport):
    """Sends every request for real, but 'loses' the first answer, as a dropped connection
    would: the server did the work, the client never hears about it."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lost = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not self.lost:
            self.lost = True
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def pay(base: str, key: str | None) -> dict:
    """POST /charges, retried on transport errors (the same key on every attempt)."""
    headers = {"Idempotency-Key": key} if key else {}
    async with httpx.AsyncClient(base_url=base, transport=LosesFirstAnswer()) as client:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(3),
            wait=wait_fixed(0.01),
            retry=retry_if_exception_type(httpx.TransportError),
            reraise=True,
        ):
            with attempt:
                response = await client.post("/charges", json={"amount": 4200}, headers=headers)
                return response.json()
    raise AssertionError("unreachable")


async def main() -> None:
    app = payments_app()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # poll with a deadline
                await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"

        print("1. No key; the first answer is lost and the client retries:")
        answer = await pay(base, key=None)
        print(f"   client got {answer}; charges made: {len(app.state.charges)}")

        app.state.charges.clear()
        print("2. The same, with an Idempotency-Key:")
        answer = await pay(base, key=uuid.uuid4().hex)
        print(f"   client got {answer}; charges made: {len(app.state.charges)}")

        app.state.charges.clear()
        print("3. Twenty copies of one request (one key) at the same moment:")
        key = uuid.uuid4().hex
        async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=20)) as c:
            answers = await asyncio.gather(
                *(
                    c.post("/charges", json={"amount": 4200}, headers={"Idempotency-Key": key})
                    for _ in range(20)
                )
            )
        distinct = {a.json()["charge"] for a in answers}
        print(f"   charges made: {len(app.state.charges)}, distinct answers: {len(distinct)}")
        print("   check-then-act is a race: the claim must be one atomic step (exercise 12.6).")
    finally:
        server.should_exit = True
        await task
        sock.close()


if __name__ == "__main__":
    asyncio.run(main())

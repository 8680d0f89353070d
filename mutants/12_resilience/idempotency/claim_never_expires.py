"""The running claim has no expiry: a crashed server holds the key for ever.

A wrong solution of 12.6 `idempotency`, kept so that its tests prove
they catch this bug. Everything else is the reference solution.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
PROBLEM_JSON = "application/problem+json"

# Store the answer only if the record is still this request's claim (compare, then set).
_FINISH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""
# Delete the claim only if it is still this request's: never someone else's.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    """SHA-256 (hex) of what makes two requests "the same": method, path, query and body
    (given)."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))  # lengths: "ab"+"c" differs from "a"+"bc"
        digest.update(part)
    return digest.hexdigest()


async def read_body(receive: Receive) -> bytes:
    """Reads a whole request body from an ASGI `receive` (given)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay_receive(body: bytes, receive: Receive) -> Receive:
    """An ASGI `receive` that hands the app the body already read, then waits on the real
    one (which reports a disconnect) (given)."""
    sent = False

    async def receive_again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_again


async def send_problem(
    send: Send, status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> None:
    """Sends a whole `application/problem+json` response through ASGI (given)."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    raw = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body.encode())).encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body.encode()})


class IdempotencyMiddleware:
    """ASGI middleware: requests with an `Idempotency-Key` run once; repeats get the answer.

    `app.add_middleware(IdempotencyMiddleware, redis=client, prefix="shop:idem")`

    Only HTTP requests whose method is in `methods` and that carry the header are handled;
    all others go straight to the app. For those:

    1. The key must be 1 to 255 printable ASCII characters, else **400** "Bad Idempotency-Key".
    2. The whole body is read and the request's `fingerprint(...)` computed. The Redis key is
       `f"{prefix}:{caller}:{key}"`, where `caller` is the value of the `scope_header`
       request header (or "-" when it is missing): two users may pick the same key.
    3. Claim the key in ONE atomic step: `SET <key> <running record> NX PX <lock_seconds>`.
       - Claimed: run the app (it gets the body through `replay_receive`), pass its answer
         on to the client as it comes, and keep a copy. An answer below 500 is then stored as
         the done record (status, headers, body) for `ttl_seconds`, *only if the record is
         still this request's claim*. An answer of 500 or more, an exception or a
         cancellation deletes the claim instead (again only if it is still ours), so that a
         retry runs again; the exception goes on up.
       - Not claimed: read the record. A different fingerprint -> **422** "Idempotency key
         reused" (detail: "... a different request ..."), whether it is running or done.
         Done -> answer the stored status, headers and body, plus `Idempotent-Replayed: true`.
         Running -> poll: `await sleep(poll_seconds)` and read again, until it is done
         (replay it) or `wait_seconds` have passed on `clock` since this request arrived
         (**409** "Request in progress" with `Retry-After: 1`). Gone (its request failed, or
         its claim expired) -> try to claim it again.
    Never an answer of 500 from the middleware itself. `clock` and `sleep` are injected so a
    test can run the waiting without waiting. The body is bytes: store it base64-encoded in
    the JSON record. The Redis client may give back str or bytes (`decode_responses`):
    `json.loads` takes both.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        redis: Redis,
        prefix: str,
        ttl_seconds: int = 24 * 3600,
        lock_seconds: float = 30.0,
        wait_seconds: float = 5.0,
        poll_seconds: float = 0.01,
        methods: tuple[str, ...] = ("POST", "PATCH"),
        scope_header: str = "X-User-ID",
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.app = app
        self.redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.lock_seconds = lock_seconds
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.methods = frozenset(m.upper() for m in methods)
        self.scope_header = scope_header.lower()
        self.clock = clock
        self.sleep = sleep
        self._finish = redis.register_script(_FINISH)
        self._release = redis.register_script(_RELEASE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in self.methods:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = headers.get(IDEMPOTENCY_HEADER.lower())
        if key is None:
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
            await send_problem(
                send,
                400,
                "Bad Idempotency-Key",
                f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            )
            return
        body = await read_body(receive)
        fp = fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body)
        redis_key = f"{self.prefix}:{headers.get(self.scope_header, '-')}:{key}"
        arrived = self.clock()
        while True:
            claim = json.dumps({"state": "running", "fingerprint": fp, "token": uuid.uuid4().hex})
            if await self.redis.set(redis_key, claim, nx=True):
                await self._run(scope, replay_receive(body, receive), send, redis_key, claim, fp)
                return
            while True:
                raw = await self.redis.get(redis_key)
                if raw is None:
                    break  # released or expired: claim it again
                record = json.loads(raw)
                if record["fingerprint"] != fp:
                    await send_problem(
                        send,
                        422,
                        "Idempotency key reused",
                        f"this {IDEMPOTENCY_HEADER} was used with a different request",
                    )
                    return
                if record["state"] == "done":
                    await self._replay(send, record)
                    return
                if self.clock() - arrived >= self.wait_seconds:
                    await send_problem(
                        send,
                        409,
                        "Request in progress",
                        f"a request with this {IDEMPOTENCY_HEADER} is still being processed",
                        {"Retry-After": "1"},
                    )
                    return
                await self.sleep(self.poll_seconds)

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, redis_key: str, claim: str, fp: str
    ) -> None:
        """Runs the app as the owner of the key, then stores or releases it."""
        status = 500
        response_headers: list[list[str]] = []
        chunks: list[bytes] = []

        async def keep_and_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers.extend(
                    [k.decode("latin-1"), v.decode("latin-1")] for k, v in message["headers"]
                )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, keep_and_send)
        except BaseException:
            # shielded: a cancelled request must still give its key back
            await asyncio.shield(self._release(keys=[redis_key], args=[claim]))
            raise
        if status >= 500:
            await self._release(keys=[redis_key], args=[claim])
            return
        done = json.dumps(
            {
                "state": "done",
                "fingerprint": fp,
                "status": status,
                "headers": response_headers,
                "body": base64.b64encode(b"".join(chunks)).decode(),
            }
        )
        await self._finish(keys=[redis_key], args=[claim, done, self.ttl_seconds])

    async def _replay(self, send: Send, record: dict[str, Any]) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in record["headers"]]
        headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
        await send({"type": "http.response.start", "status": record["status"], "headers": headers})
        await send({"type": "http.response.body", "body": base64.b64decode(record["body"])})

"""Deadlines across two services: gRPC carries them, plain HTTP does not.

Run: uv run python lessons/12_resilience/examples/02_deadlines_across_services.py

A client allows 0.3 s; a front service calls a back service whose work takes 1 s.

1. gRPC: the deadline travels on the wire (the `grpc-timeout` header). The front passes on
   what is left, `timeout=context.time_remaining()`; the back sees it, and when the deadline
   passes its handler is cancelled: the work stops.
2. gRPC again: the back refuses at once a call that arrives with too little time left for its
   work. Starting work that cannot finish in time only adds load.
3. HTTP (FastAPI on uvicorn, httpx): the front times out after 0.3 s, but nothing tells the
   back service. uvicorn does not cancel a handler when its client goes away, so the back works
   on for the whole second for nobody. Exercise 12.5 fixes this: the budget travels in a header
   and the back service enforces it.

The gRPC services speak raw bytes through generic handlers, so no .proto file is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import grpc
import httpx
import uvicorn
from fastapi import FastAPI

WORK_SECONDS = 1.0
CLIENT_DEADLINE = 0.3


class Back:
    """The back service's work, and how it ended ("finished" or "cancelled" after N s)."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.ended = asyncio.Event()

    async def work(self, budget: float | None) -> None:
        started = time.perf_counter()
        self.log.append("got " + (f"{budget:.2f}s" if budget is not None else "no deadline"))
        try:
            await asyncio.sleep(WORK_SECONDS)
            self.log.append(f"finished after {time.perf_counter() - started:.2f}s")
        except asyncio.CancelledError:
            self.log.append(f"cancelled after {time.perf_counter() - started:.2f}s")
            raise
        finally:
            self.ended.set()

    async def report(self) -> None:
        async with asyncio.timeout(WORK_SECONDS + 5):  # wait for the back's verdict
            await self.ended.wait()
        print("  back service: " + "; ".join(self.log))


@contextlib.asynccontextmanager
async def grpc_service(name: str, method: str, handler):
    # SO_REUSEPORT off: a taken port fails instead of being shared (lesson 06)
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handlers = {method: grpc.unary_unary_rpc_method_handler(handler)}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")  # a free port, loopback only
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


async def over_grpc(refuse_below: float = 0.0) -> None:
    back = Back()

    async def back_work(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        left = context.time_remaining()
        if left is not None and left < refuse_below:
            back.log.append(f"refused at once: {left:.2f}s left, the work needs {refuse_below}s")
            back.ended.set()
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "not enough time left")
        await back.work(left)
        return b"done"

    async with (
        grpc_service("demo.Back", "Work", back_work) as back_target,
        grpc.aio.insecure_channel(back_target) as to_back,
    ):
        call_back = to_back.unary_unary("/demo.Back/Work")

        async def front(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            try:
                return await call_back(request, timeout=context.time_remaining())  # pass it on
            except grpc.aio.AioRpcError as error:  # the back's answer, passed on as it is
                await context.abort(error.code(), error.details() or "")
                raise  # abort() raises; this line only tells the type checker

        async with (
            grpc_service("demo.Front", "Order", front) as front_target,
            grpc.aio.insecure_channel(front_target) as client,
        ):
            started = time.perf_counter()
            try:
                await client.unary_unary("/demo.Front/Order")(b"order", timeout=CLIENT_DEADLINE)
            except grpc.aio.AioRpcError as error:
                print(f"  client: {error.code().name} after {time.perf_counter() - started:.2f}s")
            await back.report()


@contextlib.asynccontextmanager
async def http_service(app: FastAPI):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # poll with a deadline, never a fixed sleep
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def over_http() -> None:
    back = Back()
    back_app = FastAPI()

    @back_app.post("/work")
    async def back_work() -> dict:
        await back.work(None)  # nothing says how long the caller will wait
        return {"done": True}

    async with http_service(back_app) as back_url:
        front_app = FastAPI()

        @front_app.post("/order")
        async def front() -> dict:
            async with httpx.AsyncClient(base_url=back_url, timeout=CLIENT_DEADLINE) as client:
                try:
                    return (await client.post("/work")).json()
                except httpx.TimeoutException:
                    return {"error": "the back service did not answer in time"}

        async with http_service(front_app) as front_url, httpx.AsyncClient() as client:
            started = time.perf_counter()
            answer = await client.post(f"{front_url}/order")
            print(f"  client: {answer.json()} after {time.perf_counter() - started:.2f}s")
            await back.report()


async def main() -> None:
    print(f"The client allows {CLIENT_DEADLINE}s; the back service's work takes {WORK_SECONDS}s.")
    print("1. gRPC, the deadline passed on:")
    await over_grpc()
    print("2. gRPC, a back service that refuses work it cannot finish in time:")
    await over_grpc(refuse_below=WORK_SECONDS)
    print("3. HTTP with a plain timeout on the front's call:")
    await over_http()


if __name__ == "__main__":
    asyncio.run(main())

"""05.3 executors: processes for CPU-bound work, threads for I/O-bound work, results in order."""

from __future__ import annotations

import asyncio
import operator
import os
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from journey.targets import load

executors = load(__file__, "executors")


@pytest.mark.parametrize(
    ("limit", "expected"), [(0, 0), (1, 0), (2, 0), (3, 1), (10, 4), (11, 4), (100, 25)]
)
def test_count_primes(limit: int, expected: int) -> None:
    assert executors.count_primes(limit) == expected, f"there are {expected} primes below {limit}"


def test_count_primes_rejects_a_negative_limit() -> None:
    with pytest.raises(ValueError, match="negative"):
        executors.count_primes(-1)


def test_make_executor_picks_processes_for_cpu_and_threads_for_io() -> None:
    cpu = executors.make_executor("cpu", 2)
    io = executors.make_executor("io", 3)
    try:
        assert isinstance(cpu, ProcessPoolExecutor), (
            "CPU-bound work needs processes: each has its own GIL, so they compute in parallel"
        )
        assert isinstance(io, ThreadPoolExecutor), "I/O-bound work is fine (and cheaper) on threads"
        assert io._max_workers == 3, "max_workers is passed on to the executor"
    finally:
        cpu.shutdown()
        io.shutdown()
    single = executors.make_executor("io", 1)
    single.shutdown()
    assert single._max_workers == 1, "max_workers=1 is the smallest valid pool"


@pytest.mark.parametrize(("kind", "workers"), [("gpu", 2), ("", 2), ("io", 0), ("cpu", -1)])
def test_make_executor_rejects_bad_arguments(kind: str, workers: int) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        executors.make_executor(kind, workers)


def test_cpu_work_runs_in_other_processes_in_order() -> None:
    # operator.call(os.getpid) runs os.getpid() in the worker; both pickle by name.
    pids = executors.run_in_pool(operator.call, [os.getpid] * 4, kind="cpu", max_workers=2)
    assert len(pids) == 4
    assert os.getpid() not in pids, 'kind="cpu" runs the work in worker processes, not here'
    assert executors.run_in_pool(abs, [-3, 2, -1, 0], kind="cpu") == [3, 2, 1, 0], (
        "results come back in the order of the items"
    )


def test_io_work_runs_on_threads_and_keeps_input_order_when_finishing_in_reverse() -> None:
    n = 4
    finished = [threading.Event() for _ in range(n)]
    main_thread = threading.get_ident()

    def job(i: int) -> tuple[int, int]:
        # Item i finishes only after item i + 1 has: completion order is the reverse of input.
        if i + 1 < n:
            finished[i + 1].wait(timeout=2)
        finished[i].set()
        return i * i, threading.get_ident()

    before = threading.active_count()
    results = executors.run_in_pool(job, range(n), kind="io", max_workers=n)
    assert [square for square, _ in results] == [0, 1, 4, 9], (
        "results in the order of the items even though the last item finished first "
        "(Executor.map keeps order; as_completed does not)"
    )
    assert main_thread not in {thread for _, thread in results}, 'kind="io" runs on pool threads'
    assert threading.active_count() == before, (
        "the pool is shut down before returning: no worker threads left behind"
    )


def test_an_exception_in_the_work_reaches_the_caller() -> None:
    with pytest.raises(ValueError) as raised:  # noqa: PT011 - its message is checked below
        executors.run_in_pool(int, ["1", "two", "3"], kind="io")
    assert "'two'" in str(raised.value), "the error raised by fn('two') reaches the caller"


def test_async_version_keeps_the_event_loop_free() -> None:
    go = threading.Event()

    def blocking(i: int) -> tuple[int, bool]:
        # Blocks its thread until the event loop sets `go`: possible only if the loop is free.
        return i * 10, go.wait(timeout=1.5)

    async def main():
        task = asyncio.create_task(
            executors.run_in_pool_async(blocking, range(3), kind="io", max_workers=3)
        )
        await asyncio.sleep(0)  # let the task start its work
        go.set()  # runs only if run_in_pool_async handed the blocking calls to threads
        async with asyncio.timeout(5):
            return await task

    results = asyncio.run(main())
    assert results == [(0, True), (10, True), (20, True)], (
        "the blocking calls must run on the executor (loop.run_in_executor) while the event loop "
        "goes on running other tasks; results in input order"
    )


def test_async_version_uses_processes_for_cpu() -> None:
    pids = asyncio.run(
        executors.run_in_pool_async(operator.call, [os.getpid] * 3, kind="cpu", max_workers=2)
    )
    assert len(pids) == 3
    assert os.getpid() not in pids, 'kind="cpu" runs in worker processes'


def test_async_version_shuts_its_executor_down(track_clients) -> None:
    made = track_clients(ThreadPoolExecutor)
    results = asyncio.run(
        executors.run_in_pool_async(operator.neg, [1, 2, 3], kind="io", max_workers=2)
    )
    assert results == [-1, -2, -3]
    assert made.clients, 'kind="io" makes a ThreadPoolExecutor'
    assert all(executor._shutdown for executor in made.clients), (
        "the executor is shut down before run_in_pool_async returns (executor.shutdown, "
        "in a finally): its worker threads must not be left behind"
    )

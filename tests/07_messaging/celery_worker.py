"""Runs one Celery worker for the tests of 07.6, on the app that ``make_app`` builds.

    python tests/07_messaging/celery_worker.py REDIS_URL KEY_PREFIX QUEUE

The tests start it as a process of its own and always stop it. It loads ``celery_tasks`` from
the tree under test (``JOURNEY_TARGET``: the exercises, or the solutions).
"""

from __future__ import annotations

import sys

from journey.targets import load


def notice_dead_pool_processes_sooner() -> None:
    """Celery's prefork pool looks for pool processes that died every 5 s; a test that kills
    one would wait that long for the task to be put back. Look every 0.2 s instead."""
    from celery.concurrency import asynpool

    asynpool.AsynPool.timers = property(lambda pool: {pool.maintain_pool: 0.2})


def main(argv: list[str]) -> None:
    redis_url, key_prefix, queue = argv
    notice_dead_pool_processes_sooner()
    tasks = load(__file__, "celery_tasks")
    app = tasks.make_app(redis_url, key_prefix=key_prefix, queue=queue)
    app.worker_main(
        [
            "worker",
            "--pool=prefork",
            "--concurrency=1",  # one task at a time: the tests count attempts in order
            f"--queues={queue}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            f"--hostname={queue}@localhost",
        ]
    )


if __name__ == "__main__":
    main(sys.argv[1:])

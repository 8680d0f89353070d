"""Runs one Celery worker for the tests of 07.6, on the app that ``make_app`` builds.

    python tests/07_messaging/celery_worker.py REDIS_URL KEY_PREFIX QUEUE MODULE_FILE

The tests start it as a process of its own and always stop it. It loads ``celery_tasks`` from
MODULE_FILE, the very file the test process imported (the exercise, the solution, or a kept
wrong solution under ``--verify-mutants``), as the lesson's own module, so its relative
imports work.
"""

from __future__ import annotations

import sys
from pathlib import Path

from journey.targets import lesson_of, load, substitute


def notice_dead_pool_processes_sooner() -> None:
    """Celery's prefork pool looks for pool processes that died every 5 s; a test that kills
    one would wait that long for the task to be put back. Look every 0.2 s instead."""
    from celery.concurrency import asynpool

    asynpool.AsynPool.timers = property(lambda pool: {pool.maintain_pool: 0.2})


def main(argv: list[str]) -> None:
    redis_url, key_prefix, queue, module_file = argv
    notice_dead_pool_processes_sooner()
    substitute(lesson_of(__file__), "celery_tasks", Path(module_file))
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

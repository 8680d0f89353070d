"""A Celery task with retries, run by a real worker process that this script starts and stops.

The task fails twice with a temporary error, retries itself after a short jittered countdown,
and succeeds on the third attempt. The worker acknowledges each message only after the task
ran (``acks_late``). Every Redis key lives under a unique prefix and is deleted at the end.

Run: uv run python lessons/07_messaging/examples/05_celery_worker.py
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import redis
from celery import Celery, Task

URL = os.environ.get("JOURNEY_REDIS_URL") or "redis://127.0.0.1:6379/0"


class Busy(Exception):
    """A temporary failure: try again later."""


def make_app(prefix: str, queue: str) -> Celery:
    app = Celery("example", broker=URL, backend=URL, set_as_current=False)
    app.conf.update(
        broker_transport_options={"global_keyprefix": prefix},
        result_backend_transport_options={"global_keyprefix": prefix},
        task_default_queue=queue,
        worker_prefetch_multiplier=1,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        broker_connection_retry_on_startup=True,
    )
    attempts = redis.Redis.from_url(URL)

    @app.task(name="example.send_receipt", bind=True, acks_late=True, max_retries=5)
    def send_receipt(self: Task, order_id: str) -> str:
        attempt = attempts.incr(f"{prefix}attempts:{order_id}")
        print(f"  [worker] attempt {attempt} for {order_id}", flush=True)
        if attempt < 3:
            countdown = random.uniform(0, 0.1 * 2**self.request.retries)  # full jitter
            raise self.retry(exc=Busy("mail server busy"), countdown=countdown)
        return f"receipt sent for {order_id} after {attempt} attempts"

    return app


def run_worker(prefix: str, queue: str) -> None:
    make_app(prefix, queue).worker_main(
        [
            "worker",
            "--pool=solo",
            f"--queues={queue}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname={queue}@localhost",
        ]
    )


def main() -> None:
    prefix = f"journey-example:{uuid.uuid4().hex[:8]}:"
    queue = f"{prefix}receipts"
    app = make_app(prefix, queue)
    client = redis.Redis.from_url(URL)
    with tempfile.TemporaryFile() as log:  # the worker's banner and log, shown only in part
        worker = subprocess.Popen(
            [sys.executable, __file__, "--worker", prefix, queue],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            started = time.monotonic()
            result = app.send_task("example.send_receipt", args=["o-42"])
            print("sent the task, waiting for a worker to run it ...")
            outcome = result.get(timeout=60)
            log.seek(0)
            for line in log.read().decode(errors="replace").splitlines():
                if "[worker]" in line:
                    print(line.split("WARNING/MainProcess]")[-1])
            print("result:", outcome)
            print(f"done in {time.monotonic() - started:.1f} s (worker start-up included)")
        finally:
            app.close()
            os.killpg(worker.pid, signal.SIGKILL)  # the worker and anything it started
            worker.wait(timeout=10)
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)
            client.close()
            print(f"stopped the worker, deleted {len(keys)} key(s) under {prefix}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        run_worker(*sys.argv[2:4])
    else:
        main()

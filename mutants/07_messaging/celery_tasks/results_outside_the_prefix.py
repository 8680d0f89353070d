"""Prefixes the broker's keys but not the result backend's: results land outside the prefix.

A kept wrong solution: the tests of this exercise must catch it.

Celery runs functions ("tasks") on worker processes, fed through a broker (here Redis). The
caller sends a message and gets an ``AsyncResult``; a worker takes the message, runs the task,
and stores the result in the result backend (Redis again).

Two settings decide what a failure costs:

- **retries**: a task that meets a temporary failure asks to run again later
  (``self.retry(countdown=...)``), with exponential backoff and jitter, at most
  ``max_retries`` times; then it fails for good;
- **acks_late**: by default a worker acknowledges the message *before* running the task, so a
  worker that dies mid-task loses it. With ``acks_late=True`` it acknowledges *after*; with
  ``reject_on_worker_lost=True`` a task whose worker process died is put back on the queue
  and runs again. Tasks must then be idempotent: they can run twice.

Every key goes under ``key_prefix`` (the broker's and the result backend's
``global_keyprefix``) and the tasks travel on their own ``queue``, so several apps share one
Redis without seeing each other.
"""

from __future__ import annotations

import os
import random
from typing import Any

import redis
from celery import Celery, Task

RECEIPT_TASK = "lesson07.send_receipt"
MAX_RETRIES = 3
RETRY_BASE_SECONDS = 0.05
RETRY_CAP_SECONDS = 0.5


class MailServerBusy(Exception):
    """The mail server said "try again later": a temporary failure."""


class FlakyMailer:
    """A stand-in for a mail server, kept in Redis so a test and a worker share it.

    ``fail_next(order_id, n)`` makes the next ``n`` sends for that order raise MailServerBusy;
    ``crash_next(order_id)`` makes the next send kill the process running it (as an
    out-of-memory kill or a deploy would). ``attempts`` and ``sent`` tell what happened.
    """

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(("mailer", *parts))

    def fail_next(self, order_id: str, times: int) -> None:
        self.client.set(self._key("fail", order_id), times)

    def crash_next(self, order_id: str) -> None:
        self.client.set(self._key("crash", order_id), 1)

    def send(self, order_id: str) -> str:
        self.client.incr(self._key("attempts", order_id))
        if self.client.getdel(self._key("crash", order_id)):
            os._exit(70)  # dies mid-task: no exception, no cleanup, no acknowledgement
        if int(self.client.get(self._key("fail", order_id)) or 0) > 0:
            self.client.decr(self._key("fail", order_id))
            raise MailServerBusy(f"mail server busy, receipt for {order_id} not sent")
        self.client.sadd(self._key("sent"), order_id)
        return f"receipt sent for {order_id}"

    def attempts(self, order_id: str) -> int:
        return int(self.client.get(self._key("attempts", order_id)) or 0)

    def sent(self) -> set[str]:
        members = self.client.smembers(self._key("sent"))
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}


def backoff_seconds(retries: int, rng: random.Random | None = None) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**retries)], for retry ``retries + 1``.

    (Celery's own ``retry_backoff`` counts in whole seconds, too slow for a test.)
    """
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**retries)
    return (rng or random).uniform(0, ceiling)


def make_app(redis_url: str, *, key_prefix: str, queue: str) -> Celery:
    """A Celery app on ``redis_url`` with its ``send_receipt`` task registered as RECEIPT_TASK.

    - broker and result backend: ``redis_url``, every key under ``key_prefix``
      (``broker_transport_options`` and ``result_backend_transport_options`` with
      ``global_keyprefix``); JSON serialization;
    - tasks go to, and the worker reads from, ``queue`` (``task_default_queue``);
    - the task: ``acks_late=True``, ``reject_on_worker_lost=True``, at most MAX_RETRIES
      retries of MailServerBusy with ``backoff_seconds`` as countdown; it returns what
      ``FlakyMailer.send`` returns;
    - one message at a time per worker process (``worker_prefetch_multiplier=1``).
    """
    app = Celery("lesson07", broker=redis_url, backend=redis_url, set_as_current=False)
    app.conf.update(
        broker_transport_options={"global_keyprefix": key_prefix, "visibility_timeout": 60},
        task_default_queue=queue,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=600,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # no remote control and no events: they would use broadcast channels outside the prefix
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    mailer = FlakyMailer(redis.Redis.from_url(redis_url), key_prefix)

    @app.task(
        name=RECEIPT_TASK,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=MAX_RETRIES,
    )
    def send_receipt(self: Task, order_id: str) -> Any:
        try:
            return mailer.send(order_id)
        except MailServerBusy as busy:
            raise self.retry(exc=busy, countdown=backoff_seconds(self.request.retries)) from busy

    return app

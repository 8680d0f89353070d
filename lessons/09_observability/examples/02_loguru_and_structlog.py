"""The same events logged three ways: the standard library, loguru and structlog.

All three write JSON lines with a request id bound once for a block; compare how much set-up
each needs and what a line looks like.

Run: uv run python lessons/09_observability/examples/02_loguru_and_structlog.py
"""

from __future__ import annotations

import io
import json
import logging

import structlog
from loguru import logger as loguru_logger


def with_stdlib() -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        logging.Formatter(
            '{"level": "%(levelname)s", "logger": "%(name)s", "message": "%(message)s", '
            '"request_id": "%(request_id)s"}'
        )
    )
    log = logging.getLogger("compare.stdlib")
    log.addHandler(handler)
    log.propagate = False
    # No context binding built in: pass it per call with extra= (or add a Filter, example 01).
    # A hand-made JSON template also breaks on a message with a quote in it: use a real
    # JSON formatter (exercise 09.1).
    log.warning("stock low", extra={"request_id": "r-1"})
    log.removeHandler(handler)
    return out.getvalue().strip()


def with_loguru() -> str:
    out = io.StringIO()
    # loguru has one global logger; add() returns a handler id to remove it by.
    handler_id = loguru_logger.add(out, serialize=True, level="INFO")
    try:
        with loguru_logger.contextualize(request_id="r-1"):  # a contextvar under the hood
            loguru_logger.bind(product="mug").warning("stock low")
    finally:
        loguru_logger.remove(handler_id)
    record = json.loads(out.getvalue())["record"]  # serialize=True nests the details
    return json.dumps(
        {
            "level": record["level"]["name"],
            "message": record["message"],
            "extra": record["extra"],
            "time": record["time"]["repr"],
        }
    )


def with_structlog() -> str:
    out = io.StringIO()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,  # fields bound for this context
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.WriteLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    try:
        with structlog.contextvars.bound_contextvars(request_id="r-1"):
            structlog.get_logger("compare.structlog").warning("stock low", product="mug")
    finally:
        structlog.reset_defaults()
    return out.getvalue().strip()


def main() -> None:
    loguru_logger.remove()  # loguru starts with a stderr handler; this demo prints its own
    print("stdlib   :", with_stdlib())
    print("loguru   :", with_loguru())
    print("structlog:", with_structlog())
    print(
        "\nstdlib: everywhere, verbose to set up, context by extra= or filters."
        "\nloguru: one ready logger, bind()/contextualize(), serialize=True for JSON."
        "\nstructlog: a pipeline of processors ending in a renderer, contextvars built in;"
        "\n           it can also format the stdlib's records (the capstone does: 09.8)."
    )


if __name__ == "__main__":
    main()

"""The standard library's logging: loggers, levels, handlers, formatters, dictConfig, and context
from contextvars that follows each asyncio task.

Run: uv run python lessons/09_observability/examples/01_logging_basics.py
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import logging.config
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str] = ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Copies the current request id onto every record that passes (filters may add fields)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class OneLineJson(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                "request_id": getattr(record, "request_id", None),
            }
        )


def hierarchy_and_levels() -> None:
    print("== loggers form a tree; a record goes up to the handlers of every ancestor ==")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)-7s %(name)s: %(message)s"))
    shop = logging.getLogger("shop")
    shop.addHandler(handler)
    shop.setLevel(logging.INFO)
    shop.propagate = False  # keep this demo's lines away from the root logger
    orders = logging.getLogger("shop.orders")  # a child: no handler of its own
    orders.debug("not shown: DEBUG is below the INFO level inherited from 'shop'")
    orders.info("order %s placed", 42)  # %-style arguments are formatted only if emitted
    orders.warning("stock low for %s", "mug")
    try:
        {}["price"]
    except KeyError:
        orders.exception("price computation failed")  # ERROR level plus the traceback
    print(out.getvalue().rstrip())
    shop.removeHandler(handler)
    shop.propagate = True


def dict_config() -> io.StringIO:
    print("\n== dictConfig: the whole set-up as data, one JSON object per line ==")
    out = io.StringIO()
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,  # keep loggers libraries made at import
            "filters": {"request_id": {"()": RequestIdFilter}},
            "formatters": {"json": {"()": OneLineJson}},
            "handlers": {
                "out": {
                    "class": "logging.StreamHandler",
                    "stream": out,
                    "formatter": "json",
                    "filters": ["request_id"],
                }
            },
            "root": {"level": "INFO", "handlers": ["out"]},
            "loggers": {"noisy.library": {"level": "WARNING"}},  # quieter than the rest
        }
    )
    logging.getLogger("shop.orders").info("configured")
    logging.getLogger("noisy.library").info("dropped: this logger wants WARNING and above")
    print(out.getvalue().rstrip())
    out.seek(0)
    out.truncate()
    return out


async def handle(name: str, delay: float) -> None:
    request_id.set(name)  # this task's own copy of the context: other tasks do not see it
    log = logging.getLogger("shop.http")
    log.info("request started")
    await asyncio.sleep(delay)
    log.info("request finished")


async def concurrent_requests() -> None:
    # Each task starts with a copy of the current context, so each keeps its own request id.
    await asyncio.gather(handle("req-A", 0.02), handle("req-B", 0.01))


def main() -> None:
    hierarchy_and_levels()
    out = dict_config()
    print("\n== contextvars: two concurrent requests, each line with its own request id ==")
    asyncio.run(concurrent_requests())
    print(out.getvalue().rstrip())
    logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})  # tidy up


if __name__ == "__main__":
    main()

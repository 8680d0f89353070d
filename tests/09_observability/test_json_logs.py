"""09.1 JSON log lines that carry context from contextvars."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

import pytest

from journey.targets import load

json_logs = load(__file__, "json_logs")


class _StrictHandler(logging.StreamHandler):
    def handleError(self, record: logging.LogRecord) -> None:
        raise  # a formatter that raises fails the test instead of printing


def _json_logger(lines_class, name: str = "lesson09.shop"):
    """A logger of its own with one handler that uses the learner's JsonFormatter.

    logging normally prints a formatter's exception and goes on; this handler lets it out,
    so the test shows it."""
    stream = lines_class()
    handler = _StrictHandler(stream)
    handler.setFormatter(json_logs.JsonFormatter())
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_a_record_becomes_one_json_object_on_one_line(lines) -> None:
    logger, stream = _json_logger(lines)
    logger.warning("stock low for %s: %d left", "mug", 3)
    logger.info("two\nlines and a tab\t")
    first, second = stream.records()
    assert {k: first[k] for k in ("level", "logger", "message")} == {
        "level": "WARNING",
        "logger": "lesson09.shop",
        "message": "stock low for mug: 3 left",
    }, "the core fields: level name, logger name and the message with its %-arguments filled in"
    assert list(first)[:4] == ["time", "level", "logger", "message"], (
        "the core fields come first, in this order: time, level, logger, message"
    )
    assert second["message"] == "two\nlines and a tab\t", (
        "a newline in a message must not split the line: JSON escapes it"
    )


def test_time_is_iso_8601_in_utc(lines) -> None:
    logger, stream = _json_logger(lines)
    before = datetime.now(UTC)
    logger.info("tick")
    after = datetime.now(UTC)
    stamp = stream.records()[0]["time"]
    parsed = datetime.fromisoformat(stamp)
    assert parsed.utcoffset() is not None, (
        f"time {stamp!r} must say it is UTC (+00:00): log stores compare lines from many "
        "machines, and a local time without an offset is ambiguous"
    )
    assert parsed.utcoffset().total_seconds() == 0, (
        f"time {stamp!r} must say it is UTC (+00:00): log stores compare lines from many "
        "machines, and a local time without an offset is ambiguous"
    )
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= parsed <= after, (
        f"time {stamp!r} must be the moment of the record (record.created), in UTC"
    )


def test_extra_fields_are_written_and_values_json_cannot_encode_become_strings(lines) -> None:
    logger, stream = _json_logger(lines)
    order_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    when = datetime(2025, 1, 31, 9, 15, tzinfo=UTC)
    try:
        logger.info(
            "order placed", extra={"order_id": order_id, "at": when, "items": 3, "ok": True}
        )
    except TypeError as error:
        pytest.fail(
            f"json.dumps raised {error!r} on a UUID or a datetime (logging would print "
            "'--- Logging error ---' and drop the line). Pass default=str to json.dumps."
        )
    line = stream.records()[0]
    assert line["order_id"] == str(order_id), "a value json cannot encode is written as its str()"
    assert line["at"] == str(when), "a value json cannot encode is written as its str()"
    assert line["items"] == 3, "numbers and booleans stay JSON types"
    assert line["ok"] is True, "numbers and booleans stay JSON types"
    for internal in ("args", "msg", "levelno", "pathname", "exc_info", "created"):
        assert internal not in line, (
            f"{internal!r} is an attribute every LogRecord has, not an extra: leave it out"
        )


def test_an_exception_is_written_in_the_same_line(lines) -> None:
    logger, stream = _json_logger(lines)
    try:
        {}["missing"]
    except KeyError:
        logger.exception("lookup failed")
    (line,) = stream.records()
    assert line["level"] == "ERROR"
    assert line["message"] == "lookup failed"
    assert "exception" in line, "logger.exception(...) adds the traceback in an 'exception' field"
    assert "Traceback" in line["exception"], (
        "the 'exception' field holds the formatted traceback (Formatter.formatException)"
    )
    assert "KeyError: 'missing'" in line["exception"], (
        "the 'exception' field holds the formatted traceback (Formatter.formatException)"
    )


def test_bound_fields_appear_on_every_line_of_the_block_and_go_after_it(lines) -> None:
    logger, stream = _json_logger(lines)
    with json_logs.bound(request_id="r-1", user_id=7):
        logger.info("inside")
        with json_logs.bound(order_id=42):
            logger.info("nested")
            assert json_logs.current_context() == {
                "request_id": "r-1",
                "user_id": 7,
                "order_id": 42,
            }
        logger.info("back")
    logger.info("after")
    inside, nested, back, after = stream.records()
    assert inside["request_id"] == "r-1"
    assert inside["user_id"] == 7
    assert nested["order_id"] == 42, "a nested bound() adds its fields to the ones bound outside"
    assert nested["request_id"] == "r-1", (
        "a nested bound() adds its fields to the ones bound outside"
    )
    assert "order_id" not in back, "leaving a nested block restores the outer fields"
    assert back["request_id"] == "r-1", "leaving a nested block restores the outer fields"
    assert "request_id" not in after, "after the block, its fields are gone"


def test_a_block_that_raises_still_unbinds(lines) -> None:
    logger, stream = _json_logger(lines)
    with pytest.raises(RuntimeError), json_logs.bound(request_id="r-boom"):
        raise RuntimeError("boom")
    logger.info("next request")
    assert "request_id" not in stream.records()[0], (
        "bound() must unbind in a finally: after an exception, the next line of this context "
        "would otherwise carry the failed request's id"
    )
    assert json_logs.current_context() == {}


def test_bind_and_unbind_with_a_token() -> None:
    token = json_logs.bind(tenant="acme")
    try:
        assert json_logs.current_context() == {"tenant": "acme"}
        copy = json_logs.current_context()
        copy["tenant"] = "changed"
        assert json_logs.current_context() == {"tenant": "acme"}, (
            "current_context() returns a copy: changing it changes nothing"
        )
    finally:
        json_logs.unbind(token)
    assert json_logs.current_context() == {}


def test_each_asyncio_task_has_its_own_context(lines) -> None:
    logger, stream = _json_logger(lines)

    async def handle(request_id: str, started: asyncio.Barrier) -> None:
        with json_logs.bound(request_id=request_id):
            await started.wait()  # every task has bound its id before any of them logs
            logger.info("handling")
            await asyncio.sleep(0)
            logger.info("done")

    async def main() -> None:
        started = asyncio.Barrier(3)
        await asyncio.gather(*(handle(f"req-{i}", started) for i in range(3)))

    asyncio.run(main())
    records = stream.records()
    pairs = sorted((line["request_id"], line["message"]) for line in records)
    expected = sorted((f"req-{i}", m) for i in range(3) for m in ("handling", "done"))
    assert pairs == expected, (
        "each task's lines carry that task's own request id: keep the fields in a ContextVar "
        "and set a new mapping on bind - never change the shared one in place"
    )


def test_bound_and_extra_fields_cannot_overwrite_the_core_fields(lines) -> None:
    logger, stream = _json_logger(lines)
    with json_logs.bound(level="DEBUG", logger="spoofed", time="yesterday"):
        logger.warning("real message")
    line = stream.records()[0]
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING",
        "lesson09.shop",
        "real message",
    ), "the core fields always come from the record itself"
    assert line["time"] != "yesterday"


def test_configure_logging_sends_every_logger_to_the_stream_as_json(lines) -> None:
    library = logging.getLogger("lesson09.library")  # made before set-up, as libraries do
    stream = lines()
    json_logs.configure_logging("INFO", stream=stream)
    library.info("from a library")
    logging.getLogger("lesson09.app").debug("too detailed")
    logging.getLogger("lesson09.app").error("from the app")
    messages = [line["message"] for line in stream.records()]
    assert "from a library" in messages, (
        "a logger created before configure_logging must keep working: dictConfig disables "
        "existing loggers unless disable_existing_loggers is False"
    )
    assert messages == ["from a library", "from the app"], (
        "records below the level (DEBUG under INFO) are dropped"
    )


def test_configure_logging_twice_does_not_double_the_lines(lines) -> None:
    first, second = lines(), lines()
    json_logs.configure_logging("DEBUG", stream=first)
    json_logs.configure_logging("DEBUG", stream=second)
    logging.getLogger("lesson09.app").info("once")
    assert [line["message"] for line in second.records()] == ["once"], (
        "set-up that runs twice (a test, a reload) must not add a second handler: each message "
        "is written exactly once"
    )
    assert first.getvalue() == "", "the first set-up's handler is replaced, not kept"


@pytest.mark.parametrize("level", ["verbose", "", "INFOO"])
def test_an_unknown_level_is_refused_clearly(level: str) -> None:
    with pytest.raises(ValueError, match="unknown log level") as info:
        json_logs.configure_logging(level)
    assert "WARNING" in str(info.value), "the message lists the level names that are valid"


def test_a_level_name_in_lower_case_is_accepted(lines) -> None:
    stream = lines()
    json_logs.configure_logging("warning", stream=stream)
    logging.getLogger("lesson09.app").info("dropped")
    logging.getLogger("lesson09.app").warning("kept")
    assert [line["message"] for line in stream.records()] == ["kept"]

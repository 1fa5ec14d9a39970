"""configure_logging: one line per event, the trade id from the current span, levels, and no secret."""

from __future__ import annotations

import io
import json
import logging
import uuid
import warnings
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext

from telemetry.logs import NOISY_LOGGERS, configure_logging
from telemetry.tracing import TradeIdGenerator, start_trade_root_span
from workers.settings import Settings

TRACER = TracerProvider(id_generator=TradeIdGenerator()).get_tracer("test")
logger = logging.getLogger("tradeflow.test")

SECRETS = {
    "alpaca_paper_api_key": "PKPLANTEDKEYID00000001",
    "alpaca_paper_secret_key": "planted-alpaca-secret-key",
    "slack_bot_token": "xoxb-planted-bot-token-42",
    "slack_signing_secret": "planted-signing-secret-0123",
    "aws_secret_access_key": "planted/aws+secret/access/key",
}


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, noisy_level in noisy.items():
        logging.getLogger(name).setLevel(noisy_level)
    logging.captureWarnings(False)


def configure(log_format: str = "json", at_least: str | None = None, **settings: Any) -> io.StringIO:
    out = io.StringIO()
    configure_logging(
        Settings(tradeflow_log_format=log_format, **{**SECRETS, **settings}),  # type: ignore[arg-type]
        "tradeflow-test",
        at_least=at_least,
        stream=out,
    )
    return out


def json_lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_json_line_inside_a_trade_carries_its_trade_id_as_a_uuid() -> None:
    out = configure()
    trade_id = uuid.uuid4()
    span = start_trade_root_span(str(trade_id), "validation process", tracer=TRACER)
    with trace.use_span(span, end_on_exit=True):
        logger.info("Trade %s", "validated")
    [line] = json_lines(out)
    assert line["trade_id"] == str(trade_id)
    assert line["trace_id"] == trade_id.hex
    assert line["span_id"] == format(span.get_span_context().span_id, "016x")
    assert line["message"] == "Trade validated"
    assert (line["level"], line["logger"], line["service"]) == ("INFO", "tradeflow.test", "tradeflow-test")
    assert line["ts"].endswith("Z") and datetime.fromisoformat(line["ts"]).utcoffset() is not None


def test_a_line_outside_any_span_has_no_trade_context() -> None:
    out = configure()
    logger.warning("Worker process is ready")
    [line] = json_lines(out)
    assert not {"trade_id", "trace_id", "span_id"} & line.keys()


def test_a_child_span_of_a_trade_carries_the_trade_id_too() -> None:
    out = configure()
    trade_id = uuid.uuid4()
    root = start_trade_root_span(str(trade_id), "root", tracer=TRACER)
    with trace.use_span(root, end_on_exit=True), TRACER.start_as_current_span("DynamoDB PutItem"):
        logger.info("inside a client call")
    assert json_lines(out)[0]["trade_id"] == str(trade_id)


def test_a_span_naming_its_trade_carries_that_id_whatever_the_uuid_version() -> None:
    out = configure()
    trade_id = uuid.uuid1()
    span = start_trade_root_span(
        str(trade_id), "process", attributes={"trade.id": str(trade_id)}, tracer=TRACER
    )
    with trace.use_span(span, end_on_exit=True):
        logger.info("handled")
    assert json_lines(out)[0]["trade_id"] == str(trade_id)


def test_a_trace_that_is_no_trade_has_a_trace_id_but_no_trade_id() -> None:
    out = configure()
    not_a_uuid4 = uuid.UUID("0af7651916cd43dd8448eb211c80319c").int & ~(0xF << 76)  # version nibble 0
    context = SpanContext(trace_id=not_a_uuid4, span_id=0x1234, is_remote=False)
    with trace.use_span(NonRecordingSpan(context)):
        logger.info("a health check")
    [line] = json_lines(out)
    assert line["trace_id"] == format(not_a_uuid4, "032x")
    assert "trade_id" not in line


def test_an_explicit_trade_id_wins_over_the_span() -> None:
    out = configure()
    named, current = uuid.uuid4(), uuid.uuid4()
    with trace.use_span(start_trade_root_span(str(current), "root", tracer=TRACER), end_on_exit=True):
        logger.info("dead-lettered", extra={"trade_id": named})
    logger.info("no span", extra={"trade_id": str(named)})
    assert [line["trade_id"] for line in json_lines(out)] == [str(named), str(named)]


def test_extra_fields_and_the_exception_ride_in_the_json_object() -> None:
    out = configure()
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        logger.exception("failed", extra={"queue": "validation", "retries": 2, "payload": {"a": [1, "b"]}})
    assert len(out.getvalue().splitlines()) == 1
    [line] = json_lines(out)
    assert (line["queue"], line["retries"], line["payload"]) == ("validation", 2, {"a": [1, "b"]})
    assert line["level"] == "ERROR"
    assert "Traceback" in line["exc"] and "ValueError: boom\nsecond line" in line["exc"]


def test_text_lines_tag_the_trade_and_stay_on_one_line() -> None:
    out = configure("text")
    trade_id = uuid.uuid4()
    with trace.use_span(start_trade_root_span(str(trade_id), "root", tracer=TRACER), end_on_exit=True):
        logger.info("Trade executed\nvia simulation", extra={"queue": "execution"})
    try:
        raise RuntimeError("outside")
    except RuntimeError:
        logger.exception("no trade here")
    inside, outside = out.getvalue().splitlines()
    assert f"[trade {trade_id}]" in inside
    assert "Trade executed\\nvia simulation" in inside and inside.endswith("queue=execution")
    assert "[trade" not in outside
    assert "no trade here | Traceback" in outside and "RuntimeError: outside" in outside


def test_log_level_sets_the_threshold() -> None:
    out = configure(log_level="WARNING")
    logger.info("dropped")
    logger.warning("kept")
    assert [line["message"] for line in json_lines(out)] == ["kept"]


def test_debug_mode_forces_debug_whatever_the_log_level() -> None:
    out = configure(log_level="ERROR", debug_mode=True)
    logger.debug("payload")
    assert [line["level"] for line in json_lines(out)] == ["DEBUG"]


def test_at_least_raises_the_level_for_operator_commands_but_not_under_debug_mode() -> None:
    out = configure(at_least="WARNING")
    logger.info("dropped")
    logger.error("kept")
    assert [line["message"] for line in json_lines(out)] == ["kept"]
    out = configure(at_least="WARNING", debug_mode=True)
    logger.info("kept in debug mode")
    assert [line["message"] for line in json_lines(out)] == ["kept in debug mode"]


def test_noisy_libraries_stay_at_warning_unless_debug_mode() -> None:
    out = configure(log_level="DEBUG")
    for name in NOISY_LOGGERS:
        logging.getLogger(f"{name}.connection").info("chatter")
        logging.getLogger(name).warning("%s trouble", name)
    assert [line["message"] for line in json_lines(out)] == [f"{name} trouble" for name in NOISY_LOGGERS]
    out = configure(log_level="INFO", debug_mode=True)
    logging.getLogger("botocore.endpoint").debug("request")
    assert [line["message"] for line in json_lines(out)] == ["request"]


def test_a_python_warning_is_one_log_line_too() -> None:
    out = configure()
    warnings.warn("this call is deprecated", UserWarning, stacklevel=1)
    [line] = json_lines(out)
    assert line["logger"] == "py.warnings" and line["level"] == "WARNING"
    assert "UserWarning: this call is deprecated" in line["message"]


def test_configuring_again_replaces_the_handler_rather_than_adding_one() -> None:
    configure()
    out = configure()
    logger.warning("once")
    assert len(out.getvalue().splitlines()) == 1
    assert len(logging.getLogger().handlers) == 1


@pytest.mark.parametrize("log_format", ["json", "text"])
@pytest.mark.parametrize("secret", SECRETS.values())
def test_no_secret_is_ever_written(log_format: str, secret: str) -> None:
    out = configure(log_format)
    logger.info("in the message %s", secret)
    logger.info("in an extra", extra={"settings": {"key": secret}, "header": f"Bearer {secret}"})
    try:
        raise ConnectionError(f"refused with {secret}")
    except ConnectionError:
        logger.exception("in the exception")
    logger.info("shaped like tokens: xoxp-123-456-789 Bearer abc.def amqp://u:pw-secret@host/")
    written = out.getvalue()
    assert len(written.splitlines()) == 4
    for leaked in (secret, "xoxp-123-456-789", "abc.def", "pw-secret"):
        assert leaked not in written

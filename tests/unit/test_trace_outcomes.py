"""A stage's span says what the stage decided: ERROR for a failed trade, OK with the status otherwise."""

import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from telemetry.middleware import TracingMiddleware
from telemetry.tracing import build_tracer_provider

TRADE = {"symbol": "AAPL", "side": "buy", "quantity": "10"}
FAILED = {
    "type": "TradeFailed",
    "error": {"code": "INSUFFICIENT_BUYING_POWER", "message": "not enough", "execution_method": "alpaca"},
}
EXECUTED = {"type": "TradeExecuted", "execution": {"execution_method": "simulation"}}
REJECTED = {"type": "TradeRejected", "reasons": [{"field": "user_id", "code": "NOT_A_TRADER"}]}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def broker(exporter: InMemorySpanExporter) -> Iterator[StubBroker]:
    provider = build_tracer_provider("tradeflow-test", exporter="none")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    broker = StubBroker()
    broker.add_middleware(TracingMiddleware(provider), before=type(broker.middleware[0]))
    broker.emit_after("process_boot")
    yield broker
    broker.flush_all()
    broker.close()


def _execution_span(
    broker: StubBroker, exporter: InMemorySpanExporter, outcome: dict[str, Any]
) -> ReadableSpan:
    """Run an "execution" actor that sends `outcome` on to "notifications"; return the execution span."""

    def tell(payload: dict[str, Any]) -> None:
        pass

    notifications = dramatiq.actor(broker=broker, queue_name="notifications")(tell)

    def execute(payload: dict[str, Any]) -> None:
        notifications.send({**outcome, "trade": payload["trade"]})

    execution = dramatiq.actor(broker=broker, queue_name="execution", actor_name="execute")(execute)
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        trade = {**TRADE, "trade_id": str(uuid.uuid4())}
        execution.send({"type": "TradeRecorded", "trade": trade})
        broker.join("execution")
        broker.join("notifications")
        worker.join()
    finally:
        worker.stop()
    [span] = [s for s in exporter.get_finished_spans() if s.name == "execution process"]
    [told] = [s for s in exporter.get_finished_spans() if s.name == "notifications process"]
    assert told.status.status_code is StatusCode.OK  # telling the trader about a failure is no failure
    return span


def test_a_failed_trade_makes_the_deciding_stage_span_error_with_its_code(
    broker: StubBroker, exporter: InMemorySpanExporter
) -> None:
    span = _execution_span(broker, exporter, FAILED)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "INSUFFICIENT_BUYING_POWER: not enough"
    assert span.attributes is not None
    assert span.attributes["error.type"] == "INSUFFICIENT_BUYING_POWER"
    assert span.attributes["trade.status"] == "failed" and span.attributes["trade.method"] == "alpaca"


def test_an_executed_trade_leaves_the_span_ok_with_its_status_and_method(
    broker: StubBroker, exporter: InMemorySpanExporter
) -> None:
    span = _execution_span(broker, exporter, EXECUTED)
    assert span.status.status_code is StatusCode.OK
    assert span.attributes is not None
    assert span.attributes["trade.status"] == "executed" and span.attributes["trade.method"] == "simulation"


def test_a_rejection_is_the_policy_working_not_an_error(
    broker: StubBroker, exporter: InMemorySpanExporter
) -> None:
    span = _execution_span(broker, exporter, REJECTED)
    assert span.status.status_code is StatusCode.OK
    assert span.attributes is not None
    assert span.attributes["trade.status"] == "rejected"
    assert span.attributes["trade.error_code"] == "NOT_A_TRADER"

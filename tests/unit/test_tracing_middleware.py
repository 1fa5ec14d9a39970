import asyncio
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from telemetry.middleware import (
    TRACE_CONTEXT_OPTION,
    TracingMiddleware,
    current_trade_context,
    run_with_context,
)
from telemetry.tracing import build_tracer_provider


def submit_trade(trade_id: str) -> dict[str, Any]:
    return {
        "type": "SubmitTrade",
        "trade": {"trade_id": trade_id, "symbol": "AAPL", "side": "buy", "quantity": "10"},
    }


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def broker(exporter: InMemorySpanExporter) -> Iterator[StubBroker]:
    provider = build_tracer_provider("tradeflow-test", exporter="none")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    broker = StubBroker()
    broker.add_middleware(TracingMiddleware(provider), before=type(broker.middleware[0]))
    broker.add_middleware(AsyncIO())
    broker.emit_after("process_boot")
    yield broker
    broker.flush_all()
    broker.close()


@pytest.fixture
def worker(broker: StubBroker) -> Iterator[dramatiq.Worker]:
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield worker
    worker.stop()


def consumer_spans(exporter: InMemorySpanExporter, queue_name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == f"{queue_name} process"]


def test_a_chain_of_actors_is_one_trace_whose_id_is_the_trade_id(
    broker: StubBroker, worker: dramatiq.Worker, exporter: InMemorySpanExporter
) -> None:
    def record(payload: dict[str, Any]) -> None:
        pass

    def validate(payload: dict[str, Any]) -> None:
        persistence.send({**payload, "type": "TradeValidated"})

    persistence = dramatiq.actor(record, broker=broker, queue_name="persistence")
    validation = dramatiq.actor(validate, broker=broker, queue_name="validation")
    trade_id = str(uuid.uuid4())

    validation.send(submit_trade(trade_id))
    broker.join("validation")
    broker.join("persistence")
    worker.join()

    spans = exporter.get_finished_spans()
    assert {span.context.trace_id for span in spans} == {uuid.UUID(trade_id).int}
    (publish,) = [span for span in spans if span.kind is SpanKind.PRODUCER]
    (validated,) = consumer_spans(exporter, "validation")
    (recorded,) = consumer_spans(exporter, "persistence")
    assert publish.name == "validation publish" and publish.parent is None
    assert validated.kind is recorded.kind is SpanKind.CONSUMER
    assert validated.parent is not None and validated.parent.span_id == publish.context.span_id
    assert recorded.parent is not None and recorded.parent.span_id == validated.context.span_id
    assert validated.status.status_code is recorded.status.status_code is StatusCode.OK
    assert recorded.attributes is not None
    assert (
        recorded.attributes.items()
        >= {
            "messaging.system": "rabbitmq",
            "messaging.destination.name": "persistence",
            "messaging.operation.type": "process",
            "messaging.message.type": "TradeValidated",
            "trade.id": trade_id,
            "trade.symbol": "AAPL",
            "trade.side": "buy",
            "trade.quantity": "10",
        }.items()
    )


def test_a_message_sent_from_another_trace_gets_a_root_in_its_trade_linked_to_the_sender(
    broker: StubBroker, worker: dramatiq.Worker, exporter: InMemorySpanExporter
) -> None:
    def validate(payload: dict[str, Any]) -> None:
        pass

    validation = dramatiq.actor(validate, broker=broker, queue_name="validation")
    trade_id = str(uuid.uuid4())
    sender_provider = build_tracer_provider("tradeflow-ingress", exporter="none")

    with sender_provider.get_tracer("test").start_as_current_span("POST /slack/events") as request:
        validation.send(submit_trade(trade_id))
    broker.join("validation")
    worker.join()

    (publish,) = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.PRODUCER]
    assert publish.parent is None and publish.context.trace_id == uuid.UUID(trade_id).int
    assert [link.context.span_id for link in publish.links] == [request.get_span_context().span_id]


def test_an_async_actor_sends_its_next_message_as_a_child_of_its_own_span(
    broker: StubBroker, worker: dramatiq.Worker, exporter: InMemorySpanExporter
) -> None:
    def record(payload: dict[str, Any]) -> None:
        pass

    async def validate(payload: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        persistence.send({**payload, "type": "TradeValidated"})

    persistence = dramatiq.actor(record, broker=broker, queue_name="persistence")
    validation = dramatiq.actor(validate, broker=broker, queue_name="validation")

    validation.send(submit_trade(str(uuid.uuid4())))
    broker.join("validation")
    broker.join("persistence")
    worker.join()

    (validated,) = consumer_spans(exporter, "validation")
    (recorded,) = consumer_spans(exporter, "persistence")
    assert recorded.parent is not None and recorded.parent.span_id == validated.context.span_id


def test_an_actor_that_raises_leaves_an_error_span_with_the_exception(
    broker: StubBroker, worker: dramatiq.Worker, exporter: InMemorySpanExporter
) -> None:
    def execute(payload: dict[str, Any]) -> None:
        raise RuntimeError("venue unreachable")

    execution = dramatiq.actor(execute, broker=broker, queue_name="execution", max_retries=0)

    execution.send(submit_trade(str(uuid.uuid4())))
    broker.join("execution", fail_fast=False)
    worker.join()

    (span,) = consumer_spans(exporter, "execution")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["messaging.dramatiq.dead_lettered"] is True
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes is not None and event.attributes["exception.type"] == "RuntimeError"
    assert broker.dead_letters_by_queue["execution"]


def test_a_retry_is_a_second_attempt_under_the_same_parent(
    broker: StubBroker, worker: dramatiq.Worker, exporter: InMemorySpanExporter
) -> None:
    attempts: list[int] = []

    def execute(payload: dict[str, Any]) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("venue timed out")

    execution = dramatiq.actor(
        execute, broker=broker, queue_name="execution", min_backoff=1, max_backoff=5, max_retries=1
    )

    execution.send(submit_trade(str(uuid.uuid4())))
    broker.join("execution")
    worker.join()

    # In start order: the retry may end before the first attempt's span does.
    first, second = sorted(consumer_spans(exporter, "execution"), key=lambda s: s.start_time or 0)
    assert first.parent is not None and second.parent is not None
    assert first.parent.span_id == second.parent.span_id
    assert first.context.trace_id == second.context.trace_id
    assert (first.status.status_code, second.status.status_code) == (StatusCode.ERROR, StatusCode.OK)
    assert second.attributes is not None and second.attributes["messaging.dramatiq.retries"] == 1


def test_a_message_sent_without_a_trace_context_is_rooted_in_its_trade(
    broker: StubBroker, worker: dramatiq.Worker, exporter: InMemorySpanExporter
) -> None:
    def validate(payload: dict[str, Any]) -> None:
        pass

    validation = dramatiq.actor(validate, broker=broker, queue_name="validation")
    trade_id = str(uuid.uuid4())
    message = validation.message(submit_trade(trade_id))
    # As if sent by a producer without the middleware: the consumer span is the trace's root.
    broker.queues["validation"].put(message.encode())

    broker.join("validation")
    worker.join()

    (span,) = consumer_spans(exporter, "validation")
    assert span.parent is None and span.context.trace_id == uuid.UUID(trade_id).int


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("not a dict",),
        (42,),
        ({"type": "SubmitTrade"},),
        ({"trade": {"trade_id": "not-a-uuid", "symbol": 7}},),
        ({"trade": ["x"]},),
    ],
)
def test_a_garbage_payload_is_still_processed_and_traced(
    broker: StubBroker, worker: dramatiq.Worker, exporter: InMemorySpanExporter, args: tuple[Any, ...]
) -> None:
    received: list[tuple[Any, ...]] = []

    def validate(*payload: Any) -> None:
        received.append(payload)

    validation = dramatiq.actor(validate, broker=broker, queue_name="validation")

    validation.send(*args)
    broker.join("validation")
    worker.join()

    assert received == [args]
    (span,) = consumer_spans(exporter, "validation")
    assert span.kind is SpanKind.CONSUMER and span.status.status_code is StatusCode.OK
    assert span.context.trace_id != 0


def test_a_garbage_trace_context_option_does_not_break_processing(
    broker: StubBroker, worker: dramatiq.Worker, exporter: InMemorySpanExporter
) -> None:
    received: list[dict[str, Any]] = []
    validation = dramatiq.actor(
        received.append, broker=broker, queue_name="validation", actor_name="validate"
    )
    trade_id = str(uuid.uuid4())

    validation.send_with_options(args=(submit_trade(trade_id),), **{TRACE_CONTEXT_OPTION: "garbage"})
    broker.join("validation")
    worker.join()

    assert len(received) == 1
    (span,) = consumer_spans(exporter, "validation")
    assert span.context.trace_id == uuid.UUID(trade_id).int


def test_run_with_context_carries_the_parent_to_another_threads_event_loop(
    exporter: InMemorySpanExporter,
) -> None:
    provider = build_tracer_provider("tradeflow-test", exporter="none")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")

    async def handle() -> None:
        with tracer.start_as_current_span("handler"):
            await asyncio.sleep(0)

    with tracer.start_as_current_span("consumer") as consumer:
        ctx = current_trade_context()
        thread = threading.Thread(target=asyncio.run, args=(run_with_context(ctx, handle()),))
        thread.start()
        thread.join(timeout=5)

    (handler,) = [span for span in exporter.get_finished_spans() if span.name == "handler"]
    assert handler.parent is not None and handler.parent.span_id == consumer.get_span_context().span_id
    assert not trace.get_current_span().get_span_context().is_valid

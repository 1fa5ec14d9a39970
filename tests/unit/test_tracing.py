import uuid

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from telemetry.tracing import (
    build_tracer_provider,
    configure_tracing,
    extract_context,
    inject_context,
    trade_attributes,
    trade_id_of,
    trade_root_span,
)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = build_tracer_provider("tradeflow-test", exporter="none")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture
def tracer(provider: TracerProvider) -> trace.Tracer:
    return provider.get_tracer("test")


def test_trade_root_span_takes_the_trade_id_as_trace_id(
    tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    trade_id = str(uuid.uuid4())

    with (
        trade_root_span(trade_id, "submit", kind=SpanKind.PRODUCER, tracer=tracer),
        tracer.start_as_current_span("child"),
    ):
        pass

    child, root = exporter.get_finished_spans()
    assert root.context.trace_id == child.context.trace_id == uuid.UUID(trade_id).int
    assert root.kind is SpanKind.PRODUCER and root.parent is None
    assert child.parent is not None and child.parent.span_id == root.context.span_id


def test_trade_root_span_ignores_the_span_that_was_current(
    tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    trade_id = str(uuid.uuid4())

    with tracer.start_as_current_span("http request"), trade_root_span(trade_id, "submit", tracer=tracer):
        pass

    root, _ = exporter.get_finished_spans()
    assert root.name == "submit" and root.parent is None
    assert root.context.trace_id == uuid.UUID(trade_id).int


def test_spans_outside_a_trade_root_get_random_trace_ids(tracer: trace.Tracer) -> None:
    trade_id = str(uuid.uuid4())
    with trade_root_span(trade_id, "submit", tracer=tracer):
        pass

    with tracer.start_as_current_span("unrelated") as unrelated:
        pass

    assert unrelated.get_span_context().trace_id not in (0, uuid.UUID(trade_id).int)


def test_trade_root_span_records_an_escaping_exception(
    tracer: trace.Tracer, exporter: InMemorySpanExporter
) -> None:
    with pytest.raises(RuntimeError), trade_root_span(str(uuid.uuid4()), "submit", tracer=tracer):
        raise RuntimeError("boom")

    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]


def test_trade_root_span_refuses_a_trade_id_that_is_not_a_uuid(tracer: trace.Tracer) -> None:
    with (
        pytest.raises(ValueError, match="not-a-uuid"),
        trade_root_span("not-a-uuid", "submit", tracer=tracer),
    ):
        pass


def test_injected_context_extracts_to_the_same_span_context(tracer: trace.Tracer) -> None:
    with trade_root_span(str(uuid.uuid4()), "submit", tracer=tracer) as root:
        carrier = inject_context()

    assert set(carrier) >= {"traceparent"}
    extracted = trace.get_current_span(extract_context(carrier)).get_span_context()
    assert extracted.trace_id == root.get_span_context().trace_id
    assert extracted.span_id == root.get_span_context().span_id
    assert extracted.is_remote


@pytest.mark.parametrize(
    "carrier", [None, "traceparent", 42, {"traceparent": 7}, {"traceparent": "00-garbage"}, {1: "x"}]
)
def test_extracting_garbage_gives_an_empty_context(carrier: object) -> None:
    assert not trace.get_current_span(extract_context(carrier)).get_span_context().is_valid


def test_configure_tracing_refuses_an_unknown_exporter_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER"):
        configure_tracing("tradeflow-test", exporter="jaeger")


def test_configure_tracing_refuses_an_unknown_exporter_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp,zipkin")

    with pytest.raises(ValueError, match=r"OTEL_TRACES_EXPORTER.*zipkin"):
        configure_tracing("tradeflow-test")


def test_the_service_name_argument_is_a_default_the_environment_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert build_tracer_provider("execution", "none").resource.attributes["service.name"] == "execution"

    monkeypatch.setenv("OTEL_SERVICE_NAME", "tradeflow-staging")
    assert (
        build_tracer_provider("execution", "none").resource.attributes["service.name"] == "tradeflow-staging"
    )


def test_trade_attributes_are_read_from_a_payload() -> None:
    trade_id = str(uuid.uuid4())
    payload = {
        "type": "SubmitTrade",
        "trade": {"trade_id": trade_id, "symbol": "AAPL", "side": "buy", "quantity": "10.5"},
    }

    assert trade_attributes(payload) == {
        "messaging.message.type": "SubmitTrade",
        "trade.id": trade_id,
        "trade.symbol": "AAPL",
        "trade.side": "buy",
        "trade.quantity": "10.5",
    }
    assert trade_id_of(payload) == trade_id


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "SubmitTrade",
        42,
        ["trade"],
        {},
        {"type": 3, "trade": "x"},
        {"trade": {"trade_id": "not-a-uuid", "symbol": ["AAPL"], "quantity": True}},
        {"trade": {"trade_id": "00000000-0000-0000-0000-000000000000"}},
    ],
)
def test_garbage_payloads_give_no_trade_id_and_only_clean_attributes(payload: object) -> None:
    attributes = trade_attributes(payload)

    assert trade_id_of(payload) is None
    assert all(isinstance(value, str) for value in attributes.values())
    assert "trade.symbol" not in attributes and "trade.quantity" not in attributes

"""Spans leave the process with every secret masked: attributes, exception events, links and status."""

from __future__ import annotations

import json

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Status, StatusCode

from telemetry.span_redaction import RedactingSpanExporter, redacted_span

SECRET = "plantedSpanSecret01"


def _tracer(secrets: tuple[str, ...]) -> tuple[TracerProvider, InMemorySpanExporter]:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(exported, secrets)))
    return provider, exported


def _as_text(exported: InMemorySpanExporter) -> str:
    return "".join(span.to_json() for span in exported.get_finished_spans())


def test_a_failed_delivery_quoting_a_secret_is_exported_masked() -> None:
    provider, exported = _tracer((SECRET,))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("validation process", record_exception=False) as linked:
        linked_context = linked.get_span_context()
    with tracer.start_as_current_span(
        "validation process",
        links=[Link(linked_context, {"why": f"token {SECRET}"})],
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        error = ValueError(f"Invalid value '{SECRET}' - at `$.type`")
        span.set_attribute("messaging.message.type", SECRET)
        span.set_attribute("tags", [SECRET, "plain"])
        span.set_attribute("retries", 2)
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, f"ValueError: {error}"))
    text = _as_text(exported)
    assert SECRET not in text
    [_, failed] = exported.get_finished_spans()
    assert failed.attributes == {"messaging.message.type": "***", "tags": ("***", "plain"), "retries": 2}
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "ValueError: Invalid value '***' - at `$.type`"
    [event] = failed.events
    assert (
        event.attributes is not None
        and event.attributes["exception.message"] == "Invalid value '***' - at `$.type`"
    )
    assert failed.links[0].attributes == {"why": "token ***"}
    assert failed.context == span.get_span_context() and failed.parent is None


def test_a_span_with_nothing_to_mask_is_exported_as_it_was() -> None:
    provider, exported = _tracer((SECRET,))
    with provider.get_tracer("test").start_as_current_span("execution process") as span:
        span.set_attribute("trade.symbol", "AAPL")
        span.add_event("filled", {"quantity": "10"})
    [kept] = exported.get_finished_spans()
    assert json.loads(kept.to_json())["attributes"] == {"trade.symbol": "AAPL"}
    assert kept.events[0].attributes == {"quantity": "10"} and kept.name == span.name
    assert redacted_span(kept, (SECRET,)) is kept  # not even copied

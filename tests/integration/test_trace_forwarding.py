"""`tradeflow up`'s OTLP sink keeps its span file and passes every request on to Phoenix when told to."""

from __future__ import annotations

import json
import socket
import urllib.request
import uuid
from pathlib import Path

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from telemetry.otlp_sink import OtlpSink, read_spans
from telemetry.tracing import TradeIdGenerator, trade_root_span


def export_trade(traces_url: str) -> str:
    provider = TracerProvider(
        resource=Resource.create({"service.name": "tradeflow-worker"}), id_generator=TradeIdGenerator()
    )
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=traces_url, timeout=5)))
    trade_id = str(uuid.uuid4())
    tracer = provider.get_tracer("test")
    with (
        trade_root_span(trade_id, "validation process", kind=SpanKind.CONSUMER, tracer=tracer),
        tracer.start_as_current_span("DynamoDB GetItem", kind=SpanKind.CLIENT),
    ):
        pass
    provider.shutdown()
    return uuid.UUID(trade_id).hex


def test_every_span_lands_in_the_file_and_upstream(tmp_path: Path) -> None:
    with OtlpSink(tmp_path / "phoenix.jsonl") as upstream:
        with OtlpSink(tmp_path / "spans.jsonl", forward_to=upstream.traces_url) as sink:
            trace_id = export_trade(sink.traces_url)
            # OTLP/JSON in, protobuf out: Phoenix takes only application/x-protobuf
            span = {"traceId": trace_id, "spanId": "00f067aa0ba902b7", "name": "json span"}
            body = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
            request = urllib.request.Request(
                sink.traces_url, json.dumps(body).encode(), {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.status == 200
        assert sink.forwarder is not None and (sink.forwarder.sent, sink.forwarder.failed) == (3, 0)
    kept, forwarded = read_spans(sink.out_path), read_spans(upstream.out_path)
    assert {s["name"] for s in kept} == {"validation process", "DynamoDB GetItem", "json span"}
    assert {s["trace_id"] for s in kept} == {trace_id}
    assert forwarded == kept


def test_an_absent_upstream_costs_the_file_nothing(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{sock.getsockname()[1]}/v1/traces"
    with OtlpSink(tmp_path / "spans.jsonl", forward_to=nobody) as sink:
        trace_id = export_trade(sink.traces_url)
    assert sink.forwarder is not None and (sink.forwarder.sent, sink.forwarder.failed) == (0, 2)
    assert [s["trace_id"] for s in read_spans(sink.out_path)] == [trace_id, trace_id]

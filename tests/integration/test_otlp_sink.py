import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

from telemetry.otlp_sink import OtlpSink, read_spans
from telemetry.tracing import TradeIdGenerator, trade_root_span


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[OtlpSink]:
    with OtlpSink(tmp_path / "out" / "spans.jsonl") as sink:
        yield sink


def post(url: str, body: bytes, content_type: str) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_spans_exported_over_otlp_http_land_in_the_file_under_the_trade_id(sink: OtlpSink) -> None:
    provider = TracerProvider(
        resource=Resource.create({"service.name": "tradeflow-execution"}), id_generator=TradeIdGenerator()
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=sink.traces_url, timeout=5)))
    tracer = provider.get_tracer("test")
    trade_id = str(uuid.uuid4())

    with trade_root_span(trade_id, "validation process", kind=SpanKind.CONSUMER, tracer=tracer) as root:
        root.set_attribute("trade.id", trade_id)
        with pytest.raises(TimeoutError), tracer.start_as_current_span("alpaca submit_order"):
            raise TimeoutError("no answer in 30 s")
    assert provider.force_flush(5_000)
    provider.shutdown()

    spans = {span["name"]: span for span in read_spans(sink.out_path)}
    assert set(spans) == {"validation process", "alpaca submit_order"}
    consumer, order = spans["validation process"], spans["alpaca submit_order"]
    assert consumer["trace_id"] == order["trace_id"] == uuid.UUID(trade_id).hex
    assert consumer["parent_span_id"] is None and order["parent_span_id"] == consumer["span_id"]
    assert consumer["kind"] == "CONSUMER" and consumer["service_name"] == "tradeflow-execution"
    assert consumer["attributes"]["trade.id"] == trade_id
    assert order["status_code"] == "ERROR" and "no answer" in order["status_message"]
    assert [event["name"] for event in order["events"]] == ["exception"]
    assert order["events"][0]["attributes"]["exception.type"] == "TimeoutError"
    assert order["start_time_unix_nano"] <= order["end_time_unix_nano"]


def test_otlp_json_is_accepted_with_hex_ids(sink: OtlpSink) -> None:
    trace_id, span_id = uuid.uuid4().hex, "00f067aa0ba902b7"
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "ingress"}}]},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "name": "POST /slack/events",
                                "kind": 2,
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000100000000",
                                "attributes": [{"key": "http.status_code", "value": {"intValue": "200"}}],
                            }
                        ]
                    }
                ],
            }
        ]
    }

    status = post(sink.traces_url, json.dumps(body).encode(), "application/json")

    assert status == 200
    (span,) = read_spans(sink.out_path)
    assert (span["trace_id"], span["span_id"], span["kind"]) == (trace_id, span_id, "SERVER")
    assert span["service_name"] == "ingress" and span["attributes"] == {"http.status_code": 200}


def test_a_bad_body_or_path_is_refused_and_nothing_is_written(sink: OtlpSink) -> None:
    assert post(sink.traces_url, b"\xff\xfe not protobuf", "application/x-protobuf") == 400
    assert post(sink.traces_url, b"{not json", "application/json") == 400
    assert post(sink.endpoint + "/v1/metrics", b"", "application/x-protobuf") == 404
    assert read_spans(sink.out_path) == []


def test_configure_tracing_exports_to_the_endpoint_the_standard_variables_name(
    sink: OtlpSink,
) -> None:
    # A child process: the global provider can be set only once per process.
    trade_id = str(uuid.uuid4())
    script = (
        "from telemetry.tracing import configure_tracing, shutdown_tracing, trade_root_span\n"
        "provider = configure_tracing('tradeflow-worker')\n"
        "assert configure_tracing('another-name') is provider\n"
        f"with trade_root_span({trade_id!r}, 'submit'):\n"
        "    pass\n"
        "shutdown_tracing()\n"
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    environment |= {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint}

    subprocess.run(
        [sys.executable, "-c", script], env=environment, cwd=Path(__file__).parents[2], check=True, timeout=30
    )

    (span,) = read_spans(sink.out_path)
    assert span["trace_id"] == uuid.UUID(trade_id).hex
    assert (span["name"], span["service_name"]) == ("submit", "tradeflow-worker")

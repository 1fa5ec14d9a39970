"""Loopback stand-ins for Jaeger's query API and Phoenix's REST API, serving spans a test really exported.

Each answers in its backend's own JSON, built from the span file records of `telemetry.otlp_sink`:
- Jaeger: jaegertracing/jaeger model/json/model.go (the UI model) inside the structured response of
  cmd/query/app/http_handler.go, with OTLP translated as opentelemetry-collector-contrib
  pkg/translator/jaeger/traces_to_jaegerproto.go does (kind, status and error as tags, times in µs).
- Phoenix: `GET /v1/projects/{project}/spans` of Arize-ai/phoenix
  src/phoenix/server/api/routers/v1/spans.py (`span_search`: Span, SpanContext, SpansResponseBody),
  as Phoenix 20.26 answers it: newest row first, `next_cursor` the GlobalID of the next page's first
  row, times as ISO with microseconds, 404 as plain text for an unknown project.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from telemetry.otlp_sink import OtlpSink, read_spans
from telemetry.tracing import TradeIdGenerator, trade_root_span

Record = dict[str, Any]


def export_a_trade(out_dir: Path) -> tuple[uuid.UUID, list[Record]]:
    """Export one trade's spans over OTLP from two services, with a failed attempt and its retry."""
    trade_id = uuid.uuid4()
    with OtlpSink(out_dir / "spans.jsonl") as sink:
        cli, worker = (_provider(sink, name) for name in ("tradeflow-cli", "tradeflow-worker"))
        submit = cli.get_tracer("test")
        work = worker.get_tracer("test")
        with trade_root_span(str(trade_id), "trade submit", kind=SpanKind.PRODUCER, tracer=submit):
            published = trace.get_current_span().get_span_context()
        under_submit = trace.set_span_in_context(trace.NonRecordingSpan(published))
        with work.start_as_current_span(
            "validation process", context=under_submit, kind=SpanKind.CONSUMER
        ) as validation:
            validation.set_attribute("trade.id", str(trade_id))
            with work.start_as_current_span("DynamoDB GetItem", kind=SpanKind.CLIENT) as get_item:
                get_item.set_attribute("db.system", "dynamodb")
        under_validation = trace.set_span_in_context(validation)
        try:
            with work.start_as_current_span(
                "execution process", context=under_validation, kind=SpanKind.CONSUMER
            ):
                raise TimeoutError("Alpaca did not answer in 10 s")
        except TimeoutError:
            pass
        with work.start_as_current_span(
            "execution process", context=under_validation, kind=SpanKind.CONSUMER
        ) as retry:
            retry.set_attribute("messaging.dramatiq.retries", 1)
            with work.start_as_current_span("alpaca submit_order", kind=SpanKind.CLIENT) as order:
                order.set_status(Status(StatusCode.OK))
        for provider in (cli, worker):
            provider.shutdown()
        records = [r for r in read_spans(sink.out_path) if r["trace_id"] == trade_id.hex]
    return trade_id, records


def _provider(sink: OtlpSink, service: str) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), id_generator=TradeIdGenerator()
    )
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=sink.traces_url, timeout=5)))
    return provider


# --- Jaeger ---------------------------------------------------------------------------------------------


def jaeger_trace_of(records: list[Record]) -> dict[str, Any]:
    """One trace of Jaeger's UI JSON, as the query service returns OTLP spans it stored."""
    process_ids: dict[str, str] = {}
    for record in records:
        process_ids.setdefault(record["service_name"], f"p{len(process_ids) + 1}")
    return {
        "traceID": records[0]["trace_id"],
        "spans": [_jaeger_span(record, process_ids[record["service_name"]]) for record in records],
        "processes": {
            pid: {"serviceName": service, "tags": [_tag("telemetry.sdk.language", "python")]}
            for service, pid in process_ids.items()
        },
        "warnings": None,
    }


def _jaeger_span(record: Record, process_id: str) -> dict[str, Any]:
    start_us = record["start_time_unix_nano"] // 1_000
    tags = [_tag("otel.scope.name", "test")]
    tags += [_tag(key, value) for key, value in record["attributes"].items()]
    tags.append(_tag("span.kind", record["kind"].lower()))
    if record["status_code"] in ("OK", "ERROR"):
        tags.append(_tag("otel.status_code", record["status_code"]))
    if record["status_code"] == "ERROR":
        tags.append(_tag("error", True))
    if record["status_message"]:
        tags.append(_tag("otel.status_description", record["status_message"]))
    parent = record["parent_span_id"]
    return {
        "traceID": record["trace_id"],
        "spanID": record["span_id"],
        "flags": 1,
        "operationName": record["name"],
        "references": (
            [{"refType": "CHILD_OF", "traceID": record["trace_id"], "spanID": parent}] if parent else []
        ),
        "startTime": start_us,
        "duration": (record["end_time_unix_nano"] - record["start_time_unix_nano"]) // 1_000,
        "tags": tags,
        "logs": [
            {
                "timestamp": event["time_unix_nano"] // 1_000,
                "fields": [
                    _tag("event", event["name"]),
                    *(_tag(k, v) for k, v in event["attributes"].items()),
                ],
            }
            for event in record["events"]
        ],
        "processID": process_id,
        "warnings": None,
    }


def _tag(key: str, value: Any) -> dict[str, Any]:
    kind = (
        "bool"
        if isinstance(value, bool)
        else "int64"
        if isinstance(value, int)
        else "float64"
        if isinstance(value, float)
        else "string"
    )
    return {"key": key, "type": kind, "value": value}


@contextmanager
def jaeger_query_server(records: list[Record]) -> Iterator[str]:
    """Serve `GET /api/traces/{traceID}` for the records' trace; yield the query service's base URL."""
    trace_ = jaeger_trace_of(records)

    def answer(path: str, query: dict[str, list[str]]) -> tuple[HTTPStatus, str, bytes]:
        trace_id = path.removeprefix("/api/traces/")
        if not path.startswith("/api/traces/") or trace_id.lower() != trace_["traceID"]:
            body = {"data": None, "total": 0, "limit": 0, "offset": 0}
            body["errors"] = [{"code": 404, "msg": "trace not found"}]
            return HTTPStatus.NOT_FOUND, "application/json", json.dumps(body).encode()
        body = {"data": [trace_], "total": 0, "limit": 0, "offset": 0, "errors": None}
        return HTTPStatus.OK, "application/json", json.dumps(body).encode()

    with _serve(answer) as url:
        yield url


# --- Phoenix --------------------------------------------------------------------------------------------


def phoenix_span_of(record: Record, row_id: int) -> dict[str, Any]:
    """One span as Phoenix's `getSpans` returns it (it keeps neither service.name nor the OTel kind)."""
    return {
        "id": _global_id("Span", row_id),
        "name": record["name"],
        "context": {"trace_id": record["trace_id"], "span_id": record["span_id"]},
        "span_kind": "UNKNOWN",
        "parent_id": record["parent_span_id"],
        "start_time": _iso(record["start_time_unix_nano"]),
        "end_time": _iso(record["end_time_unix_nano"]),
        "status_code": record["status_code"],
        "status_message": record["status_message"],
        "attributes": record["attributes"],
        "events": [
            {"name": e["name"], "timestamp": _iso(e["time_unix_nano"]), "attributes": e["attributes"]}
            for e in record["events"]
        ],
    }


def _global_id(type_name: str, row_id: int) -> str:
    return base64.b64encode(f"{type_name}:{row_id}".encode()).decode()


def _iso(unix_nano: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=unix_nano // 1_000)).isoformat()


@contextmanager
def phoenix_rest_server(records: list[Record], project: str = "default") -> Iterator[str]:
    """Serve Phoenix's version route and `GET /v1/projects/{project}/spans`; yield Phoenix's base URL."""
    rows = list(enumerate(records, start=1))  # row ids in insertion order, as Phoenix's table gives them

    def answer(path: str, query: dict[str, list[str]]) -> tuple[HTTPStatus, str, bytes]:
        if path == "/arize_phoenix_version":
            return HTTPStatus.OK, "text/plain; charset=utf-8", b"20.26.1"
        name = path.removeprefix("/v1/projects/").removesuffix("/spans")
        if not (path.startswith("/v1/projects/") and path.endswith("/spans")):
            return HTTPStatus.NOT_FOUND, "application/json", b'{"detail":"Not Found"}'
        if name != project:
            return (
                HTTPStatus.NOT_FOUND,
                "text/plain; charset=utf-8",
                f"Project with name {name} not found".encode(),
            )
        limit = int(query.get("limit", ["100"])[0])
        wanted = set(query.get("trace_id", []))
        matching = [(i, r) for i, r in reversed(rows) if not wanted or r["trace_id"] in wanted]
        if "cursor" in query:
            below = int(base64.b64decode(query["cursor"][0]).decode().split(":")[1])
            matching = [(i, r) for i, r in matching if i <= below]
        page, rest = matching[:limit], matching[limit:]
        body = {
            "data": [phoenix_span_of(r, i) for i, r in page],
            "next_cursor": _global_id("Span", rest[0][0]) if rest else None,
        }
        return HTTPStatus.OK, "application/json", json.dumps(body).encode()

    with _serve(answer) as url:
        yield url


# --- the HTTP server both use ----------------------------------------------------------------------------


@contextmanager
def _serve(answer: Any) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, content_type, body = answer(parts.path, parse_qs(parts.query))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

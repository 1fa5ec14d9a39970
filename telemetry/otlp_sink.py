"""Receive OTLP/HTTP traces on loopback and append each span as a JSON line: the in-test trace backend."""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import signal
import threading
import zlib
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from telemetry.otlp_forward import OtlpForwarder

TRACES_PATH = "/v1/traces"
# OTLP/JSON writes ids as hex where protobuf's JSON mapping expects base64.
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})


class OtlpSink:
    """An OTLP/HTTP trace receiver on a loopback port that appends every span it gets to `out_path`.

    With `forward_to` (an upstream's traces URL: Phoenix, Jaeger) it also passes every request on.
    """

    def __init__(
        self, out_path: Path, host: str = "127.0.0.1", port: int = 0, forward_to: str | None = None
    ) -> None:
        self.out_path = Path(out_path)
        self._host = host
        self._port = port
        self._write_lock = threading.Lock()
        self.forwarder = OtlpForwarder(forward_to) if forward_to else None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """The base URL, as for `OTEL_EXPORTER_OTLP_ENDPOINT`."""
        if self._server is None:
            raise RuntimeError("the OTLP sink is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def traces_url(self) -> str:
        """The traces URL, as for `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTLPSpanExporter(endpoint=…)`."""
        return self.endpoint + TRACES_PATH

    def start(self) -> OtlpSink:
        """Bind the port and serve on a daemon thread."""
        if self._server is not None:
            return self
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        if self.forwarder is not None:
            self.forwarder.start()
        self._server = ThreadingHTTPServer((self._host, self._port), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval so that stop() returns promptly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="otlp-sink", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None
        if self.forwarder is not None:
            self.forwarder.stop()

    def __enter__(self) -> OtlpSink:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def append(self, request: ExportTraceServiceRequest) -> int:
        """Append the spans of one export request as JSON lines; return how many."""
        lines = [json.dumps(span, separators=(",", ":")) + "\n" for span in spans_of(request)]
        # One write per request under a lock: concurrent exports never interleave their lines.
        with self._write_lock, self.out_path.open("a", encoding="utf-8") as out:
            out.write("".join(lines))
        return len(lines)


def _handler_for(sink: OtlpSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != TRACES_PATH:
                self._answer(HTTPStatus.NOT_FOUND, "text/plain", b"only POST /v1/traces is served\n")
                return
            is_json = self.headers.get("Content-Type", "").split(";", 1)[0].strip() == "application/json"
            try:
                body = _decoded_body(
                    self.rfile.read(int(self.headers.get("Content-Length", "0"))), self.headers
                )
                request = _parse_json(body) if is_json else ExportTraceServiceRequest.FromString(body)
            except (ValueError, DecodeError, OSError, zlib.error, json_format.ParseError) as error:
                self._answer(HTTPStatus.BAD_REQUEST, "text/plain", f"bad OTLP request: {error}\n".encode())
                return
            sink.append(request)
            if sink.forwarder is not None:
                sink.forwarder.submit(request)
            if is_json:
                self._answer(HTTPStatus.OK, "application/json", b"{}")
            else:
                self._answer(
                    HTTPStatus.OK, "application/x-protobuf", ExportTraceServiceResponse().SerializeToString()
                )

        def _answer(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output and the `tradeflow up` console quiet."""

    return Handler


def _decoded_body(body: bytes, headers: Any) -> bytes:
    encoding = headers.get("Content-Encoding", "").strip().lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding not in ("", "identity"):
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    return body


def _parse_json(body: bytes) -> ExportTraceServiceRequest:
    return json_format.ParseDict(_hex_ids_to_base64(json.loads(body)), ExportTraceServiceRequest())


def _hex_ids_to_base64(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: base64.b64encode(bytes.fromhex(item)).decode()
            if key in _ID_KEYS and isinstance(item, str)
            else _hex_ids_to_base64(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_hex_ids_to_base64(item) for item in value]
    return value


def spans_of(request: ExportTraceServiceRequest) -> list[dict[str, Any]]:
    """Flatten an export request into one dict per span, ids as lowercase hex."""
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        service_name = resource.get("service.name")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    {
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex() or None,
                        "name": span.name,
                        "kind": Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                        "service_name": service_name,
                        "start_time_unix_nano": span.start_time_unix_nano,
                        "end_time_unix_nano": span.end_time_unix_nano,
                        "status_code": Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
                        "status_message": span.status.message,
                        "attributes": _attributes(span.attributes),
                        "events": [
                            {
                                "name": event.name,
                                "time_unix_nano": event.time_unix_nano,
                                "attributes": _attributes(event.attributes),
                            }
                            for event in span.events
                        ],
                    }
                )
    return spans


def _attributes(key_values: Sequence[KeyValue]) -> dict[str, Any]:
    return {key_value.key: _value(key_value.value) for key_value in key_values}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind) if kind else None


def read_spans(path: Path) -> list[dict[str, Any]]:
    """Return the spans written so far; a missing file is no spans, a half-written last line is skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [
        json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n") and line.strip()
    ]


def main(argv: list[str] | None = None) -> int:
    """Serve in the foreground until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m telemetry.otlp_sink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4318)
    parser.add_argument("--out", type=Path, default=Path(".data/spans.jsonl"))
    parser.add_argument("--forward", default=None, help="also POST each request to this OTLP traces URL")
    args = parser.parse_args(argv)
    stopped = threading.Event()
    # SIGTERM too, so that `tradeflow up` can stop it cleanly.
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopped.set())
    sink = OtlpSink(args.out, host=args.host, port=args.port, forward_to=args.forward).start()
    print(f"OTLP sink on {sink.endpoint} (POST {TRACES_PATH}), writing {args.out}", flush=True)
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        sink.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

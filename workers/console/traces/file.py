"""The span file `tradeflow up`'s OTLP sink writes (`.data/spans.jsonl`) as a trace backend."""

from __future__ import annotations

from pathlib import Path

from telemetry.otlp_sink import read_spans
from workers.console.traces.span import TraceSpan


class SpanFileBackend:
    """Read a trace from a JSON-lines span file; it has no UI."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def source(self) -> str:
        return str(self.path)

    def spans(self, trace_id: str) -> list[TraceSpan]:
        return [
            TraceSpan(
                trace_id=s["trace_id"],
                span_id=s["span_id"],
                parent_span_id=s["parent_span_id"],
                name=s["name"],
                service=s["service_name"],
                kind=s["kind"],
                start_ns=s["start_time_unix_nano"],
                end_ns=s["end_time_unix_nano"],
                status=s["status_code"],
                status_message=s["status_message"],
                attributes=s["attributes"],
            )
            for s in read_spans(self.path)
            if s["trace_id"] == trace_id
        ]

    def ui_link(self, trace_id: str) -> str | None:
        return None

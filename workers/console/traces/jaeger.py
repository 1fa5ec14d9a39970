"""Jaeger's query API as a trace backend: `GET /api/traces/{traceID}` on the query port (16686).

The answer is Jaeger's UI JSON (jaegertracing/jaeger model/json/model.go) in its structured response
(cmd/query/app/http_handler.go): `{"data": [trace], "errors": …}`, each trace holding `spans` and
`processes`. An OTLP span arrives there translated as in opentelemetry-collector-contrib
pkg/translator/jaeger/traces_to_jaegerproto.go: the parent as the CHILD_OF reference, times in
microseconds, the kind in the `span.kind` tag, the status in `otel.status_code` /
`otel.status_description` (and `error=true`), the service in the span's process.
"""

from __future__ import annotations

from typing import Any

from workers.console.traces.http_json import get_json
from workers.console.traces.span import StatusCode, TraceBackendError, TraceSpan

DEFAULT_URL = "http://127.0.0.1:16686"


class JaegerBackend:
    """Read a trace from a Jaeger query service; its UI is on the same address."""

    def __init__(self, url: str = DEFAULT_URL) -> None:
        self.url = url.rstrip("/")

    @property
    def source(self) -> str:
        return self.url

    def spans(self, trace_id: str) -> list[TraceSpan]:
        doc = get_json(f"{self.url}/api/traces/{trace_id}", not_found_ok=True)
        if doc is None:
            return []
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list | None):
            raise TraceBackendError(f"{self.url} did not answer like Jaeger's query API")
        return [span for trace in doc["data"] or [] for span in spans_of_jaeger_trace(trace)]

    def ui_link(self, trace_id: str) -> str | None:
        return f"{self.url}/trace/{trace_id}"


def spans_of_jaeger_trace(trace: dict[str, Any]) -> list[TraceSpan]:
    """Normalize the spans of one trace of Jaeger's UI JSON."""
    processes = trace.get("processes") or {}
    spans = []
    for span in trace["spans"]:
        tags = {tag["key"]: tag.get("value") for tag in span.get("tags") or []}
        parents = [r["spanID"] for r in span.get("references") or [] if r.get("refType") == "CHILD_OF"]
        start_us, duration_us = int(span["startTime"]), int(span["duration"])
        kind = tags.get("span.kind")
        spans.append(
            TraceSpan(
                trace_id=span["traceID"],
                span_id=span["spanID"],
                parent_span_id=parents[0] if parents else None,
                name=span["operationName"],
                service=(processes.get(span.get("processID")) or {}).get("serviceName"),
                kind=kind.upper() if isinstance(kind, str) else None,
                start_ns=start_us * 1_000,
                end_ns=(start_us + duration_us) * 1_000,
                status=_status(tags),
                status_message=str(tags.get("otel.status_description") or ""),
                attributes=tags,
            )
        )
    return spans


def _status(tags: dict[str, Any]) -> StatusCode:
    code = tags.get("otel.status_code")
    if code in ("OK", "ERROR"):
        return "OK" if code == "OK" else "ERROR"
    return "ERROR" if tags.get("error") in (True, "true") else "UNSET"

"""`tradeflow trace TRADE_ID`: a trade's spans as a tree, with durations and statuses, and the UI link.

The spans come from whichever backend is configured (see console/traces/): the span file `tradeflow up`'s
OTLP sink writes, Jaeger or Phoenix. The trace id is the trade id without dashes in all of them.
"""

from __future__ import annotations

import uuid
from typing import Any

from workers.console.traces import TraceBackend, TraceSpan

NO_UI = "none for the span file: `make traces` starts Phoenix, then add --backend phoenix"


def trace_document(backend: TraceBackend, trade_id: uuid.UUID) -> dict[str, Any]:
    trace_id = trade_id.hex
    spans = sorted(backend.spans(trace_id), key=lambda s: s.start_ns)
    by_parent: dict[str | None, list[TraceSpan]] = {}
    ids = {s.span_id for s in spans}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        by_parent.setdefault(parent, []).append(span)
    start = spans[0].start_ns if spans else 0
    end = max((s.end_ns for s in spans), default=0)
    return {
        "trade_id": str(trade_id),
        "trace_id": trace_id,
        "spans": len(spans),
        "duration_ms": round((end - start) / 1e6, 1),
        "errors": sum(1 for s in spans if s.status == "ERROR"),
        "tree": [_node(span, by_parent, start) for span in by_parent.get(None, [])],
        "source": backend.source,
        "ui": backend.ui_link(trace_id),
    }


def _node(span: TraceSpan, by_parent: dict[str | None, list[TraceSpan]], start: int) -> dict[str, Any]:
    return {
        "name": span.name,
        "service": span.service,
        "kind": span.kind,
        "status": span.status,
        "offset_ms": round((span.start_ns - start) / 1e6, 1),
        "duration_ms": round((span.end_ns - span.start_ns) / 1e6, 1),
        "retries": span.attributes.get("messaging.dramatiq.retries"),
        "error": span.status_message or None,
        "children": [_node(child, by_parent, start) for child in by_parent.get(span.span_id, [])],
    }


def render_trace(doc: dict[str, Any]) -> str:
    ui = f"UI: {doc['ui'] or NO_UI}"
    if not doc["spans"]:
        return f"No spans for trade {doc['trade_id']} (trace {doc['trace_id']}) in {doc['source']}.\n{ui}"
    lines = [
        f"Trace {doc['trace_id']} (trade {doc['trade_id']}): {doc['spans']} spans, "
        f"{doc['duration_ms']} ms, {doc['errors']} error(s), from {doc['source']}"
    ]

    def walk(node: dict[str, Any], depth: int) -> None:
        mark = "✗" if node["status"] == "ERROR" else "✓"
        retry = f" (retry {node['retries']})" if node["retries"] else ""
        service = f"  [{node['service']}]" if node["service"] else ""
        error = f"  {node['error']}" if node["error"] else ""
        lines.append(
            f"{'  ' * depth}{mark} {node['name']}{retry}{service}  "
            f"+{node['offset_ms']} ms, {node['duration_ms']} ms{error}"
        )
        for child in node["children"]:
            walk(child, depth + 1)

    for root in doc["tree"]:
        walk(root, 1)
    lines.append(ui)
    return "\n".join(lines)

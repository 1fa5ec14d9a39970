"""`tradeflow trace TRADE_ID`: a trade's spans as a tree, with durations and statuses.

The backend here is the span file `tradeflow up`'s OTLP sink writes (`.data/spans.jsonl`); the trace id is
the trade id without dashes, so any OTLP backend (Jaeger, Phoenix) finds the same trace by that id.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from telemetry.otlp_sink import read_spans


def trace_document(spans_path: Path, trade_id: uuid.UUID) -> dict[str, Any]:
    trace_id = trade_id.hex
    spans = sorted(
        (s for s in read_spans(spans_path) if s["trace_id"] == trace_id),
        key=lambda s: s["start_time_unix_nano"],
    )
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    ids = {s["span_id"] for s in spans}
    for span in spans:
        parent = span["parent_span_id"] if span["parent_span_id"] in ids else None
        by_parent.setdefault(parent, []).append(span)
    start = spans[0]["start_time_unix_nano"] if spans else 0
    end = max((s["end_time_unix_nano"] for s in spans), default=0)
    return {
        "trade_id": str(trade_id),
        "trace_id": trace_id,
        "spans": len(spans),
        "duration_ms": round((end - start) / 1e6, 1),
        "errors": sum(1 for s in spans if s["status_code"] == "ERROR"),
        "tree": [_node(span, by_parent, start) for span in by_parent.get(None, [])],
        "source": str(spans_path),
    }


def _node(
    span: dict[str, Any], by_parent: dict[str | None, list[dict[str, Any]]], start: int
) -> dict[str, Any]:
    return {
        "name": span["name"],
        "service": span["service_name"],
        "kind": span["kind"],
        "status": span["status_code"],
        "offset_ms": round((span["start_time_unix_nano"] - start) / 1e6, 1),
        "duration_ms": round((span["end_time_unix_nano"] - span["start_time_unix_nano"]) / 1e6, 1),
        "retries": span["attributes"].get("messaging.dramatiq.retries"),
        "error": span["status_message"] or None,
        "children": [_node(child, by_parent, start) for child in by_parent.get(span["span_id"], [])],
    }


def render_trace(doc: dict[str, Any]) -> str:
    if not doc["spans"]:
        return f"No spans for trade {doc['trade_id']} (trace {doc['trace_id']}) in {doc['source']}."
    lines = [
        f"Trace {doc['trace_id']} (trade {doc['trade_id']}): {doc['spans']} spans, "
        f"{doc['duration_ms']} ms, {doc['errors']} error(s)"
    ]

    def walk(node: dict[str, Any], depth: int) -> None:
        mark = "✗" if node["status"] == "ERROR" else "✓"
        retry = f" (retry {node['retries']})" if node["retries"] else ""
        error = f"  {node['error']}" if node["error"] else ""
        lines.append(
            f"{'  ' * depth}{mark} {node['name']}{retry}  [{node['service']}]  "
            f"+{node['offset_ms']} ms, {node['duration_ms']} ms{error}"
        )
        for child in node["children"]:
            walk(child, depth + 1)

    for root in doc["tree"]:
        walk(root, 1)
    return "\n".join(lines)

"""Trace backends for `tradeflow trace`: the span file, Jaeger's query API, Phoenix's REST API.

Each one returns the same `TraceSpan`s, so one renderer shows a trace from any of them.
"""

from __future__ import annotations

from pathlib import Path

from workers.console.traces import jaeger, phoenix
from workers.console.traces.file import SpanFileBackend
from workers.console.traces.span import TraceBackend, TraceBackendError, TraceSpan

__all__ = ["TraceBackend", "TraceBackendError", "TraceSpan", "default_url", "open_backend"]


def default_url(kind: str) -> str | None:
    """The loopback address a backend answers on when nothing else is said; the file has none."""
    return {"jaeger": jaeger.DEFAULT_URL, "phoenix": phoenix.DEFAULT_URL}.get(kind)


def open_backend(kind: str, *, url: str | None, spans_path: Path) -> TraceBackend:
    """Pick the backend by name (`file`, `jaeger` or `phoenix`); `url` overrides its default address."""
    if kind == "file":
        return SpanFileBackend(spans_path)
    if kind == "jaeger":
        return jaeger.JaegerBackend(url or jaeger.DEFAULT_URL)
    if kind == "phoenix":
        return phoenix.PhoenixBackend(url or phoenix.DEFAULT_URL)
    raise ValueError(f"unknown trace backend {kind!r} (file, jaeger or phoenix)")

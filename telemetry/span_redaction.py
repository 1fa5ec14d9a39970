"""Mask secrets in spans before they leave the process: names, attributes, events, links and status.

A span records what failed, and a failure's message may quote what it was given: a poisoned message's
"type" is copied into an attribute and into the exception event. Every exporter tradeflow builds is
wrapped, so no span reaches a collector, a file or the console unredacted, whoever recorded it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status

from telemetry.redaction import redact


class RedactingSpanExporter(SpanExporter):
    """Hand `inner` each span with every string in it masked (a span with nothing to mask as it is)."""

    def __init__(self, inner: SpanExporter, secrets: Iterable[str] = ()) -> None:
        self._inner = inner
        self._secrets = tuple(secrets)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([redacted_span(span, self._secrets) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


def redacted_span(span: ReadableSpan, secrets: Sequence[str]) -> ReadableSpan:
    """Return `span` with its secrets masked: the span itself when there was nothing to mask."""
    name = redact(span.name, secrets)
    attributes = _attributes(span.attributes, secrets)
    events = [
        Event(event.name, _attributes(event.attributes, secrets), event.timestamp) for event in span.events
    ]
    links = [Link(link.context, _attributes(link.attributes, secrets)) for link in span.links]
    description = span.status.description
    masked_description = None if description is None else redact(description, secrets)
    before = [span.attributes, *(e.attributes for e in span.events), *(k.attributes for k in span.links)]
    after = [attributes, *(e.attributes for e in events), *(k.attributes for k in links)]
    unchanged = (
        name == span.name
        and masked_description == description
        and all(dict(old or {}) == dict(new or {}) for old, new in zip(before, after, strict=True))
    )
    if unchanged:
        return span
    return ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events,
        links=links,
        kind=span.kind,
        status=Status(span.status.status_code, masked_description),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _attributes(attributes: Mapping[str, Any] | None, secrets: Sequence[str]) -> dict[str, Any]:
    return {key: _value(value, secrets) for key, value in (attributes or {}).items()}


def _value(value: Any, secrets: Sequence[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return tuple(_value(item, secrets) for item in value)
    return value

"""Set up OpenTelemetry tracing so that every trade's trace id is its trade id."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context, attach, detach, get_current
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import Link, Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from telemetry.span_redaction import RedactingSpanExporter
from telemetry.trade_context import with_trade_id

EXPORTER_VARIABLE = "OTEL_TRACES_EXPORTER"
EXPORTERS = frozenset({"otlp", "console", "none"})
TRACER_NAME = "tradeflow"

# Longest string we copy from a payload into an attribute: a garbage payload must not bloat a span.
_MAX_ATTRIBUTE_CHARS = 256

# Read by TradeIdGenerator: set only while a trade's root span is being started.
_root_trace_id: ContextVar[int | None] = ContextVar("tradeflow_root_trace_id", default=None)

_propagator = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
_configure_lock = threading.Lock()
_configured: TracerProvider | None = None


class TradeIdGenerator(IdGenerator):
    """Generate the trade id as trace id while a trade's root span starts; random ids otherwise."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        return self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        trace_id = _root_trace_id.get()
        return trace_id if trace_id is not None else self._random.generate_trace_id()


def trace_id_of(trade_id: object) -> int | None:
    """Return the trace id of a trade id (its UUID as an integer), or None if it is not a usable UUID."""
    if not isinstance(trade_id, str | uuid.UUID):
        return None
    try:
        trace_id = trade_id.int if isinstance(trade_id, uuid.UUID) else uuid.UUID(trade_id).int
    except ValueError:
        return None
    # The nil UUID would be the invalid trace id 0.
    return trace_id or None


def trade_id_of(payload: object) -> str | None:
    """Return `payload["trade"]["trade_id"]` when it is a usable UUID string, else None; never raise."""
    trade = payload.get("trade") if isinstance(payload, Mapping) else None
    trade_id = trade.get("trade_id") if isinstance(trade, Mapping) else None
    return trade_id if isinstance(trade_id, str) and trace_id_of(trade_id) is not None else None


def trade_attributes(payload: object) -> dict[str, AttributeValue]:
    """Return the trade.* and messaging.message.type attributes found in a payload; skip what is garbage."""
    if not isinstance(payload, Mapping):
        return {}
    attributes: dict[str, AttributeValue] = {}
    _put_text(attributes, "messaging.message.type", payload.get("type"))
    trade = payload.get("trade")
    if isinstance(trade, Mapping):
        for field, key in (("trade_id", "trade.id"), ("symbol", "trade.symbol"), ("side", "trade.side")):
            _put_text(attributes, key, trade.get(field))
        # Quantities are Decimal on the wire (a string); keep them exact rather than a float.
        _put_text(attributes, "trade.quantity", trade.get("quantity"), allow_numbers=True)
    return attributes


def _put_text(
    attributes: dict[str, AttributeValue], key: str, value: object, *, allow_numbers: bool = False
) -> None:
    if isinstance(value, str) or (
        allow_numbers and isinstance(value, int | float) and not isinstance(value, bool)
    ):
        attributes[key] = str(value)[:_MAX_ATTRIBUTE_CHARS]


def build_tracer_provider(
    service_name: str, exporter: str | None = None, *, secrets: Iterable[str] = ()
) -> TracerProvider:
    """Build a provider with trade-id trace ids and the chosen exporters, without making it global.

    `exporter` (else `OTEL_TRACES_EXPORTER`, else "otlp" as in the OpenTelemetry spec) is a comma-separated
    list of "otlp" (OTLP/HTTP, configured by the standard `OTEL_EXPORTER_OTLP_*` variables, batched),
    "console" or "none". `OTEL_SERVICE_NAME` (or service.name in `OTEL_RESOURCE_ATTRIBUTES`) overrides
    `service_name`, so an operator can rename a deployment without a code change. Every exporter is
    wrapped so that no span leaves with one of `secrets` (or anything shaped like a token) in it.
    """
    names = _exporter_names(exporter)
    secrets = tuple(secrets)
    provider = TracerProvider(
        sampler=ALWAYS_ON, resource=_resource(service_name), id_generator=TradeIdGenerator()
    )
    if "otlp" in names:
        # Imported here so that a process exporting nothing never loads the HTTP stack.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(RedactingSpanExporter(OTLPSpanExporter(), secrets)))
    if "console" in names:
        provider.add_span_processor(
            SimpleSpanProcessor(RedactingSpanExporter(ConsoleSpanExporter(), secrets))
        )
    return provider


def configure_tracing(
    service_name: str, exporter: str | None = None, *, secrets: Iterable[str] = ()
) -> TracerProvider:
    """Build the process's provider (see `build_tracer_provider`) and make it global, once.

    A second call returns the provider already set, whatever its arguments; so does a call made after
    another library set an SDK provider. The exporter name is checked on every call. Unless it is "none",
    the first call also instruments the process's DynamoDB, Alpaca and Slack clients (instrumentation.py).
    """
    global _configured
    names = _exporter_names(exporter)
    with _configure_lock:
        if _configured is not None:
            return _configured
        existing = trace.get_tracer_provider()
        if isinstance(existing, TracerProvider):
            _configured = existing
        else:
            _configured = build_tracer_provider(service_name, exporter, secrets=secrets)
            trace.set_tracer_provider(_configured)
        if names != {"none"}:
            # Imported here so that a process exporting nothing never loads the instrumentations.
            from telemetry.instrumentation import instrument_clients

            instrument_clients()
        return _configured


def shutdown_tracing(timeout_millis: int = 30_000) -> None:
    """Flush and shut down the provider set by `configure_tracing`, if any; call once, at exit."""
    with _configure_lock:
        if _configured is not None:
            _configured.force_flush(timeout_millis)
            _configured.shutdown()


def _exporter_names(exporter: str | None) -> set[str]:
    value = exporter if exporter is not None else os.environ.get(EXPORTER_VARIABLE, "otlp")
    names = {name.strip().lower() for name in value.split(",") if name.strip()} or {"none"}
    unknown = names - EXPORTERS
    if unknown:
        raise ValueError(
            f"{EXPORTER_VARIABLE}={value!r}: unknown exporter {', '.join(sorted(unknown))!r};"
            f" use a comma-separated list of {', '.join(sorted(EXPORTERS))}"
        )
    return names


def _resource(service_name: str) -> Resource:
    from_environment = bool(os.environ.get("OTEL_SERVICE_NAME", "").strip()) or (
        SERVICE_NAME in OTELResourceDetector().detect().attributes
    )
    return Resource.create({} if from_environment else {SERVICE_NAME: service_name})


def start_trade_root_span(
    trade_id: str,
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, AttributeValue] | None = None,
    links: Sequence[Link] | None = None,
    tracer: Tracer | None = None,
) -> Span:
    """Start (not make current) a root span whose trace id is the trade id; the caller ends it.

    The trace id is the trade id only when the tracer's provider uses `TradeIdGenerator`.
    Raises ValueError when `trade_id` is not a UUID.
    """
    trace_id = trace_id_of(trade_id)
    if trace_id is None:
        raise ValueError(f"trade id {trade_id!r} is not a UUID")
    token = _root_trace_id.set(trace_id)
    try:
        # An empty Context: no parent, so the provider asks the id generator for a trace id.
        return (tracer or trace.get_tracer(TRACER_NAME)).start_span(
            name, context=Context(), kind=kind, attributes=attributes, links=links
        )
    finally:
        _root_trace_id.reset(token)


@contextmanager
def trade_root_span(
    trade_id: str,
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, AttributeValue] | None = None,
    links: Sequence[Link] | None = None,
    tracer: Tracer | None = None,
) -> Iterator[Span]:
    """Start a trade's root span (trace id = trade id), make it current, end it on exit.

    An exception leaving the block is recorded on the span and sets its status to ERROR.
    """
    span = start_trade_root_span(trade_id, name, kind=kind, attributes=attributes, links=links, tracer=tracer)
    token = attach(with_trade_id(trade_id))
    try:
        with trace.use_span(span, end_on_exit=True):
            yield span
    finally:
        detach(token)


def inject_context(context: Context | None = None) -> dict[str, str]:
    """Return the W3C `traceparent` (and `tracestate`, `baggage`) of a context, the current one by default."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=context if context is not None else get_current())
    return carrier


def extract_context(carrier: object) -> Context:
    """Return the context a carrier from `inject_context` describes; an empty Context for garbage."""
    if not isinstance(carrier, Mapping):
        return Context()
    clean = {key: value for key, value in carrier.items() if isinstance(key, str) and isinstance(value, str)}
    return _propagator.extract(clean, context=Context())

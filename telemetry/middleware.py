"""Carry each trade's trace through RabbitMQ: one CONSUMER span per message, parented by its sender."""

from __future__ import annotations

import threading
from collections.abc import Awaitable
from contextvars import Token
from typing import Any, TypeVar

import dramatiq
from dramatiq.common import q_name
from dramatiq.errors import ActorNotFound
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from telemetry.outcomes import describe_outcome, is_error
from telemetry.tracing import (
    extract_context,
    inject_context,
    start_trade_root_span,
    trace_id_of,
    trade_attributes,
    trade_id_of,
)
from telemetry.trade_context import with_trade_id

# dramatiq's RabbitMQ broker sends no AMQP headers, so the W3C carrier rides in the message options.
TRACE_CONTEXT_OPTION = "trace_context"
# Set on a delivery that raised an exception its actor declares in `throws` (tradeflow's Deferred).
DEFERRED_ATTRIBUTE = "tradeflow.deferred"

T = TypeVar("T")


class TracingMiddleware(dramatiq.Middleware):
    """Trace every message: inject the sender's context on enqueue, wrap processing in a CONSUMER span.

    The trace id is always the trade id when the payload carries one: a message sent with no current span
    (or from another trace) gets a short PRODUCER root span in the trade's trace. A message that already
    carries a context (a retry, a dead letter replayed) keeps it, so each attempt is a sibling under the
    original sender. Place it before Retries (and any middleware that sends from an `after_*` hook) in
    the broker's list: `after_*` hooks run in reverse order, so its span is then still current while they
    run, and it can record whether the message was dead-lettered.
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        self._tracer = provider.get_tracer(__name__)
        # Worker threads process one message at a time, and a context token must be detached on the
        # thread that attached it: keep the in-flight spans per thread.
        self._local = threading.local()

    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int) -> None:
        if TRACE_CONTEXT_OPTION in message.options:
            return
        queue_name = q_name(message.queue_name)
        payload = _payload(message)
        trade_id = trade_id_of(payload)
        current = trace.get_current_span().get_span_context()
        if trade_id is None or (current.is_valid and current.trace_id == trace_id_of(trade_id)):
            describe_outcome(trace.get_current_span(), payload)  # a stage sending what it decided
            message.options[TRACE_CONTEXT_OPTION] = inject_context()
            return
        attributes = _messaging_attributes(queue_name, message, operation="publish", operation_type="send")
        span = start_trade_root_span(
            trade_id,
            f"{queue_name} publish",
            kind=SpanKind.PRODUCER,
            attributes={**attributes, **trade_attributes(payload)},
            links=[Link(current)] if current.is_valid else None,
            tracer=self._tracer,
        )
        try:
            message.options[TRACE_CONTEXT_OPTION] = inject_context(trace.set_span_in_context(span, Context()))
        finally:
            span.end()

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        queue_name = q_name(message.queue_name)
        payload = _payload(message)
        attributes = _messaging_attributes(queue_name, message, operation="process", operation_type="process")
        attributes.update(trade_attributes(payload))
        retries = message.options.get("retries")
        if isinstance(retries, int):
            attributes["messaging.dramatiq.retries"] = retries
        name = f"{queue_name} process"
        parent = extract_context(message.options.get(TRACE_CONTEXT_OPTION))
        trade_id = trade_id_of(payload)
        span: Span
        if trace.get_current_span(parent).get_span_context().is_valid or trade_id is None:
            span = self._tracer.start_span(
                name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes
            )
        else:
            # Sent without this middleware: root it in the trade so the trace id is still the trade id.
            span = start_trade_root_span(
                trade_id, name, kind=SpanKind.CONSUMER, attributes=attributes, tracer=self._tracer
            )
        context = trace.set_span_in_context(span, parent)
        if trade_id is not None:  # the client spans under this one say which trade they worked for
            context = with_trade_id(trade_id, context)
        token = otel_context.attach(context)
        self._in_flight()[message.message_id] = (span, token)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.MessageProxy,
        *,
        result: Any | None = None,
        exception: BaseException | None = None,
    ) -> None:
        entry = self._in_flight().pop(message.message_id, None)
        if entry is None:
            return
        span, token = entry
        try:
            if exception is not None and _thrown_on_purpose(broker, message, exception):
                # Deferred ("come back later": another delivery holds the work's lease) answers the message
                # without failing it: the status stays UNSET, and the span says it was deferred and why.
                span.set_attribute(DEFERRED_ATTRIBUTE, True)
                span.set_attribute(f"{DEFERRED_ATTRIBUTE}.reason", f"{type(exception).__name__}: {exception}")
            elif exception is not None:
                span.record_exception(exception)
                span.set_attribute("error.type", type(exception).__qualname__)
                span.set_status(Status(StatusCode.ERROR, f"{type(exception).__name__}: {exception}"))
            elif not is_error(span):  # a failed trade's outcome already made it ERROR
                span.set_status(Status(StatusCode.OK))
            if message.failed:
                span.set_attribute("messaging.dramatiq.dead_lettered", True)
        finally:
            span.end()
            otel_context.detach(token)

    def after_skip_message(self, broker: dramatiq.Broker, message: dramatiq.MessageProxy) -> None:
        entry = self._in_flight().pop(message.message_id, None)
        if entry is None:
            return
        span, token = entry
        span.set_attribute("messaging.dramatiq.skipped", True)
        if message.failed:
            span.set_attribute("messaging.dramatiq.dead_lettered", True)
        span.end()
        otel_context.detach(token)

    def _in_flight(self) -> dict[str, tuple[Span, Token[Context]]]:
        in_flight: dict[str, tuple[Span, Token[Context]]] | None = getattr(self._local, "in_flight", None)
        if in_flight is None:
            in_flight = self._local.in_flight = {}
        return in_flight


def current_trade_context() -> Context:
    """Return the current OpenTelemetry context, to hand to `run_with_context` on another thread."""
    return otel_context.get_current()


async def run_with_context(ctx: Context, coro: Awaitable[T]) -> T:
    """Await `coro` with `ctx` current, so spans it starts are children of the span current in `ctx`.

    Context variables do not follow work onto another thread's event loop unless the scheduling call copies
    them, so capture `current_trade_context()` in the worker thread and wrap the coroutine with this.
    Pass a coroutine object, not a Task: a Task already runs in the context it was created in.
    """
    token = otel_context.attach(ctx)
    try:
        return await coro
    finally:
        otel_context.detach(token)


def _thrown_on_purpose(
    broker: dramatiq.Broker, message: dramatiq.MessageProxy, exception: BaseException
) -> bool:
    """True when the actor declares it raises this (`throws`), as dramatiq's worker decides what to log."""
    throws: Any = message.options.get("throws")
    if not throws:
        try:
            throws = broker.get_actor(message.actor_name).options.get("throws")
        except ActorNotFound:
            return False
    return bool(throws) and isinstance(exception, throws)


def _payload(message: dramatiq.Message[Any] | dramatiq.MessageProxy) -> object:
    args = message.args
    return args[0] if isinstance(args, tuple | list) and args else None


def _messaging_attributes(
    queue_name: str,
    message: dramatiq.Message[Any] | dramatiq.MessageProxy,
    *,
    operation: str,
    operation_type: str,
) -> dict[str, AttributeValue]:
    return {
        "messaging.system": "rabbitmq",
        "messaging.destination.name": queue_name,
        "messaging.operation.name": operation,
        "messaging.operation.type": operation_type,
        "messaging.message.id": message.message_id,
        "messaging.dramatiq.actor": message.actor_name,
    }

"""Publishing onto the chain: through the routing table, from a worker, the ingress or the CLI alike.

A publisher needs only the table (chain/routing.py) and a RabbitMQ connection: it loads no handler and
declares no actor, so the Slack ingress starts without the workers' dependencies.
"""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
from opentelemetry import context as otel_context
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind

from messages.codec import to_payload
from messages.events import AnyMessage, SubmitTrade, SweepOpenTrades
from telemetry.tracing import trade_attributes, trade_root_span
from workers.chain.rabbitmq import build_rabbitmq
from workers.chain.routing import next_stage
from workers.settings import Settings


def publish(rabbitmq: dramatiq.Broker, queue_of: Callable[[str], str], message: AnyMessage) -> None:
    """Send a message to the stage that consumes its type (publisher-confirmed), after its delay if any.

    `queue_of` names a stage's queue (Settings.queue: the prefix isolates stacks on one RabbitMQ).
    """
    stage = next_stage(message)
    envelope: dramatiq.Message[None] = dramatiq.Message(
        queue_name=queue_of(stage), actor_name=stage, args=(to_payload(message),), kwargs={}, options={}
    )
    delay = getattr(message, "delay_ms", 0) or None
    if not isinstance(message, SweepOpenTrades):
        rabbitmq.enqueue(envelope, delay=delay)
        return
    # Each sweep is a trace of its own: sent under the previous sweep's span, the sweeps would nest forever.
    token = otel_context.attach(Context())
    try:
        rabbitmq.enqueue(envelope, delay=delay)
    finally:
        otel_context.detach(token)


class Publisher:
    """Publishes SubmitTrade with a publisher confirm, inside the trade's root span (trace id = trade id)."""

    def __init__(self, settings: Settings) -> None:
        self.rabbitmq: dramatiq.Broker = build_rabbitmq(settings)
        self._queue_of = settings.queue

    def submit(self, command: SubmitTrade) -> None:
        with trade_root_span(
            command.trade_id,
            "trade submit",
            kind=SpanKind.PRODUCER,
            attributes=trade_attributes(to_payload(command)),
        ):
            publish(self.rabbitmq, self._queue_of, command)

    def send(self, message: AnyMessage) -> None:
        """Publish any chain message (an operator's ReconcileTrade, say) to the stage that consumes it."""
        publish(self.rabbitmq, self._queue_of, message)

    def close(self) -> None:
        self.rabbitmq.close()

"""Send one message to the stage the routing table names for its type: the chain's one way to publish."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
from opentelemetry import context as otel_context
from opentelemetry.context import Context

from messages.codec import to_payload
from messages.events import AnyMessage, SweepOpenTrades
from workers.chain.routing import next_stage


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

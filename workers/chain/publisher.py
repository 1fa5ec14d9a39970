"""Publishing onto the chain: through the routing table, from a worker, the ingress or the CLI alike.

A publisher needs only the table (chain/routing.py) and a RabbitMQ connection: it loads no handler and
declares no actor, so the Slack ingress starts without the workers' dependencies.
"""

from __future__ import annotations

import dramatiq
from opentelemetry.trace import SpanKind

from messages.codec import to_payload
from messages.events import AnyMessage, SubmitTrade
from telemetry.tracing import trade_attributes, trade_root_span
from workers.chain.rabbitmq import build_rabbitmq
from workers.chain.sending import publish
from workers.settings import Settings


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

"""Publishing commands onto the chain from outside a worker (the CLI now, the Slack ingress later)."""

from __future__ import annotations

import dramatiq
from opentelemetry.trace import SpanKind

from messages.codec import to_payload
from messages.events import AnyMessage, SubmitTrade
from telemetry.tracing import trade_attributes, trade_root_span
from workers.actors import Runtime, declare_stage_actors, publish
from workers.bootstrap import close_deps, open_deps
from workers.rabbitmq import build_rabbitmq
from workers.settings import Settings


class Publisher:
    """Publishes SubmitTrade with a publisher confirm, inside the trade's root span (trace id = trade id)."""

    def __init__(self, settings: Settings) -> None:
        self.rabbitmq: dramatiq.Broker = build_rabbitmq(settings)
        declare_stage_actors(self.rabbitmq, settings, Runtime(settings, open_deps, close_deps))

    def submit(self, command: SubmitTrade) -> None:
        with trade_root_span(
            command.trade_id,
            "trade submit",
            kind=SpanKind.PRODUCER,
            attributes=trade_attributes(to_payload(command)),
        ):
            publish(self.rabbitmq, command)

    def send(self, message: AnyMessage) -> None:
        """Publish any chain message (an operator's ReconcileTrade, say) to the stage that consumes it."""
        publish(self.rabbitmq, message)

    def close(self) -> None:
        self.rabbitmq.close()

"""Dead letters made the way production makes them, for the dead-letter tool tests."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import dramatiq
import pika

from messages.codec import to_payload
from messages.events import AnyMessage, SubmitTrade, TradeRecorded
from messages.trade import TradeRequest
from tests.fixtures_rabbitmq import QueueReader
from tests.waiting import eventually
from workers.chain.rabbitmq import build_rabbitmq
from workers.handlers.errors import UnknownTrade
from workers.settings import Settings
from workers.store.port import StoreUnavailable

DEAD_LETTER_OPTIONS = ("dead_letter_reason", "traceback", "failures", "permanent", "dead_lettered_at", "eta")


class FailingStages:
    """A worker whose validation actor meets an unknown trade (permanent) and whose execution actor finds
    the store down (transient): the production middleware dead-letters both, with their stories."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rabbitmq = build_rabbitmq(settings)

        def validation(payload: Any) -> None:
            raise UnknownTrade(f"trade {payload['trade']['trade_id']} was never recorded")

        def execution(payload: Any) -> None:
            raise StoreUnavailable("throttled")

        self.actors = {
            fn.__name__: dramatiq.actor(
                actor_name=fn.__name__, queue_name=settings.queue(fn.__name__), broker=self.rabbitmq
            )(fn)
            for fn in (validation, execution)
        }
        # Only these two stages' queues: the notices a dead-lettered submission sends the notifications
        # stage (TradeHeld) wait there for a stage this worker does not run.
        queues = {q for stage in self.actors for q in (settings.queue(stage), f"{settings.queue(stage)}.DQ")}
        self.worker = dramatiq.Worker(self.rabbitmq, queues=queues, worker_threads=2, worker_timeout=100)
        self.worker.start()
        self.running = True

    def send(self, stage: str, message: AnyMessage) -> dict[str, str]:
        """Send as the previous stage would, with the trade's trace context; return that context."""
        context = {"traceparent": f"00-{message.trade.trade_id.hex}-{secrets.token_hex(8)}-01"}
        self.actors[stage].send_with_options(args=(to_payload(message),), trace_context=context)
        return context

    def send_raw(self, reader: QueueReader, stage: str, body: bytes) -> None:
        queue = self.settings.queue(stage)
        eventually(lambda: reader.consumers(queue) >= 1)  # declared (with its XQ) and consumed
        reader.publish_raw(queue, body)

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.worker.stop()
            self.rabbitmq.close()


def a_trade() -> TradeRequest:
    return TradeRequest(
        trade_id=uuid.uuid4(),
        user_id="U123",
        symbol="AAPL",
        side="buy",
        quantity=Decimal(10),
        submitted_at=datetime.now(UTC),
    )


def as_stored(messages: list[tuple[pika.BasicProperties, bytes]]) -> list[tuple[dict[str, Any], bytes]]:
    """Each message's properties and body as the queue keeps them, without the count of its deliveries
    (a quorum queue's `x-delivery-count` header, which every look at it increases)."""
    stored = []
    for properties, body in messages:
        fields = {k: v for k, v in vars(properties).items() if v is not None}
        fields["headers"] = {k: v for k, v in (properties.headers or {}).items() if k != "x-delivery-count"}
        stored.append((fields, body))
    return stored


def xq(settings: Settings, stage: str) -> str:
    return f"{settings.queue(stage)}.XQ"


def dead_letters_of(reader: QueueReader, queue: str) -> list[dict[str, Any]]:
    return [json.loads(body) for _, body in reader.peek_all(queue)]


def make_dead_letters(
    settings: Settings, failing: FailingStages, reader: QueueReader
) -> tuple[list[TradeRequest], TradeRequest]:
    """Two unknown trades and one raw body in validation's XQ, one exhausted retry in execution's."""
    unknown = [a_trade(), a_trade()]
    for trade in unknown:
        failing.send("validation", SubmitTrade(trade=trade))
    throttled = a_trade()
    failing.send("execution", TradeRecorded(trade=throttled, recorded_at=datetime.now(UTC)))
    failing.send_raw(reader, "validation", b"\xff this is not a dramatiq message")
    counts = [(xq(settings, "validation"), 3), (xq(settings, "execution"), 1)]
    eventually(lambda: all(reader.count(queue) == n for queue, n in counts))
    failing.stop()  # nothing consumes the stage queues now: a replay stays where it lands
    return unknown, throttled

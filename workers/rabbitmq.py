"""The RabbitMQ side: confirmed, durable publishing through dramatiq, with a msgspec envelope codec."""

from __future__ import annotations

from typing import Any

import dramatiq
import msgspec
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.errors import DecodeError
from dramatiq.middleware import AsyncIO, CurrentMessage, ShutdownNotifications, TimeLimit

from telemetry.metrics import StageMetrics
from telemetry.middleware import TracingMiddleware
from workers.dead_letters import DeadLetters, is_permanent
from workers.settings import Settings

# The execution stage may wait up to the fill timeout; a stage is killed only well past that.
TIME_LIMIT_MARGIN_S = 60


class MsgspecEnvelopeEncoder(dramatiq.Encoder):
    """dramatiq's envelope as JSON via msgspec: one pass, and Decimals stay strings."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(dict[str, Any])

    def encode(self, data: dict[str, Any]) -> bytes:
        return self._encoder.encode(data)

    def decode(self, data: bytes) -> dict[str, Any]:
        try:
            return self._decoder.decode(data)
        except msgspec.DecodeError as exc:
            raise DecodeError(f"undecodable message body: {exc}", data, exc) from None


def build_rabbitmq(settings: Settings, *extra_middleware: dramatiq.Middleware) -> RabbitmqBroker:
    """A RabbitMQ connection that waits for publisher confirms (an ack means durable, DESIGN §4.3)."""
    dramatiq.set_encoder(MsgspecEnvelopeEncoder())
    time_limit_ms = int((settings.tradeflow_fill_timeout_s + TIME_LIMIT_MARGIN_S) * 1000)
    middleware: list[dramatiq.Middleware] = [
        TimeLimit(time_limit=time_limit_ms),
        ShutdownNotifications(),
        CurrentMessage(),
        AsyncIO(),
        TracingMiddleware(),
        StageMetrics(),
        DeadLetters(
            max_retries=settings.tradeflow_max_retries,
            min_backoff_ms=settings.tradeflow_min_backoff_ms,
            max_backoff_ms=settings.tradeflow_max_backoff_ms,
            is_permanent=is_permanent,
        ),
        *extra_middleware,
    ]
    return RabbitmqBroker(url=settings.rabbitmq_url, confirm_delivery=True, middleware=middleware)

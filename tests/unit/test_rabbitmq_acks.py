"""A message is acked only on the channel that delivered it, never by its number on a newer channel.

dramatiq's consumer checked only that a delivery tag was one its channel had delivered; after a reconnect the
acks of messages from the dropped channel (tags counted from 1 again) acked the new channel's messages with
the same numbers, unprocessed: a worker killed then lost them (fault campaign 3835473282, trade 25f20723).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any, ClassVar

import dramatiq
import pika
import pytest

from workers.chain.rabbitmq import TradeflowRabbitmq


class FakeChannel:
    def __init__(self, deliveries: list[tuple[int, bytes]]) -> None:
        self._deliveries = deliveries
        self.acked: list[int] = []
        self.nacked: list[int] = []

    def basic_qos(self, prefetch_count: int) -> None:
        pass

    def consume(self, queue: str, inactivity_timeout: float) -> Iterator[tuple[Any, Any, bytes]]:
        for tag, body in self._deliveries:
            yield SimpleNamespace(delivery_tag=tag, redelivered=False), None, body

    def basic_ack(self, tag: int) -> None:
        self.acked.append(tag)

    def basic_nack(self, tag: int, requeue: bool) -> None:
        self.nacked.append(tag)


class FakeConnection:
    """One per consumer, as dramatiq opens them; each hands out the channel the test queued for it."""

    channels: ClassVar[list[FakeChannel]] = []

    def __init__(self, parameters: Any) -> None:
        self._channel = FakeConnection.channels.pop(0)

    def channel(self) -> FakeChannel:
        return self._channel

    def add_callback_threadsafe(self, callback: Callable[[], None]) -> None:
        callback()


def _body(trade: str) -> bytes:
    message: dramatiq.Message[None] = dramatiq.Message(
        queue_name="persistence", actor_name="persistence", args=(trade,), kwargs={}, options={}
    )
    return message.encode()


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> TradeflowRabbitmq:
    monkeypatch.setattr(pika, "BlockingConnection", FakeConnection)
    return TradeflowRabbitmq(queue_type="quorum", url="amqp://guest:guest@127.0.0.1:5672/%2F")


def test_an_old_connections_message_acks_nothing_on_the_new_one(broker: TradeflowRabbitmq) -> None:
    dropped, reopened = FakeChannel([(1, _body("processed"))]), FakeChannel([(1, _body("waiting"))])
    FakeConnection.channels = [dropped, reopened]
    before = broker.consumer_class(broker, "persistence", 16, 100)
    processed = next(before)
    after = broker.consumer_class(broker, "persistence", 16, 100)  # the consumer dramatiq restarts
    waiting = next(after)

    after.ack(processed)  # the worker finishes the old message once the new consumer is in place
    assert reopened.acked == []  # "waiting" (tag 1 of the new channel) is not acked in its place
    after.nack(processed)
    assert reopened.nacked == []

    after.ack(waiting)
    assert reopened.acked == [1]
    assert dropped.acked == []


def test_a_consumer_acks_and_nacks_its_own_deliveries(broker: TradeflowRabbitmq) -> None:
    channel = FakeChannel([(1, _body("a")), (2, _body("b"))])
    FakeConnection.channels = [channel]
    consumer = broker.consumer_class(broker, "persistence", 16, 100)
    first, second = next(consumer), next(consumer)
    consumer.nack(second)
    consumer.ack(first)
    consumer.ack(first)  # a second ack of the same delivery sends nothing more
    assert channel.acked == [1]
    assert channel.nacked == [2]

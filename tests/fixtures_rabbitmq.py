"""Pytest fixtures for the machine's RabbitMQ: a skip on a laptop, a failure in CI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pika
import pytest

from bench.stack import delete_queues
from tests.fixtures_dynamo import unavailable
from tests.waiting import eventually

RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    try:
        pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL)).close()
    except Exception as exc:
        hint = (
            " (a node that takes the connection but never answers has most likely run out of file handles:"
            " queues left by earlier runs; see docs/testing.md, 'When RabbitMQ stops answering')"
            if "handshake" in str(exc).lower()
            else ""
        )
        unavailable(f"No connection to RabbitMQ at {RABBITMQ_URL}: {exc}{hint}")
    return RABBITMQ_URL


@pytest.fixture
def queue_prefix(rabbitmq_url: str) -> Iterator[str]:
    """A queue prefix of this test's own; its queues (and their .DQ/.XQ) are deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    yield prefix
    delete_queues(rabbitmq_url, prefix)


class QueueReader:
    """Reads a queue's messages without consuming them for good (they are requeued)."""

    def __init__(self, url: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self._confirming = False

    def count(self, queue: str) -> int:
        return self._declared(queue)[0]

    def consumers(self, queue: str) -> int:
        return self._declared(queue)[1]

    def _declared(self, queue: str) -> tuple[int, int]:
        try:
            method = self.channel.queue_declare(queue, passive=True).method
            return method.message_count, method.consumer_count
        except pika.exceptions.ChannelClosedByBroker:  # the queue does not exist (yet)
            self.channel = self.connection.channel()
            self._confirming = False
            return 0, 0

    def peek_all(self, queue: str) -> list[tuple[pika.BasicProperties, bytes]]:
        found, tags = [], []
        while True:
            method, properties, body = self.channel.basic_get(queue, auto_ack=False)
            if method is None:
                break
            found.append((properties, body))
            tags.append(method.delivery_tag)
        for tag in tags:
            self.channel.basic_nack(tag, requeue=True)
        # RabbitMQ applies a requeue after it answered the nack: look again only once they are all back.
        eventually(lambda: self.count(queue) >= len(found), timeout=10)
        return found

    def publish_raw(self, queue: str, body: bytes) -> None:
        if not self._confirming:
            self.channel.confirm_delivery()
            self._confirming = True
        self.channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2), mandatory=True)

    def close(self) -> None:
        self.connection.close()

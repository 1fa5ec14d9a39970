"""The dead-letter tool's one RabbitMQ connection: queue depths, non-destructive reads, confirmed publishes.

Reading is `basic_get` without ack, up to the depth the queue had when the read began, holding every
message unacked until the end; then one `basic_nack(multiple=True, requeue=True)` hands back whatever was
not deliberately removed. Why this and not a consumer: a consumer's prefetch caps what it may hold (65,535)
and cancelling it returns the in-flight deliveries on their own; `basic_get` holds any number, and bounding
it by the starting depth means a dead letter that arrives meanwhile (even one of our own replays failing
again) is never read, so a run always ends. RabbitMQ puts requeued messages back at their original
positions in a classic queue, so the XQ's order (which its head-first TTL relies on) is unchanged. A
quorum queue (TRADEFLOW_QUEUE_TYPE, the default) puts messages taken by `basic_get` and nacked back at its
tail, in their order, and adds an `x-delivery-count` header: a read of the whole XQ leaves its order as it
was, but a dead letter that arrived during the read, or the rest of a queue read only in part (`list`'s
line limit), now stands ahead of them; RabbitMQ expires messages at the head, so the ones moved behind
expire later (when those ahead of them have), never sooner. This tool declares queues only passively,
which matches any type and arguments: the queues' arguments live in workers/chain/rabbitmq.py alone.
If the command dies halfway, the connection closes and RabbitMQ requeues every unacked message: reading
never loses a dead letter, and only an explicit ack (after a confirmed replay, or a confirmed purge)
removes one.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika
from pika.exceptions import AMQPConnectionError, AMQPError, ChannelClosedByBroker, NackError, UnroutableError

from workers.chain.rabbitmq import connect_rabbitmq
from workers.console.dlq.letters import DlqError
from workers.settings import Settings

RETURN_WAIT_S = 5.0


class PublishRefused(DlqError):
    """RabbitMQ did not confirm a publish (the queue is missing, or it nacked the message)."""


@dataclass(frozen=True)
class Delivery:
    tag: int
    properties: Any
    body: bytes


class HeldMessages:
    """Up to `count` messages taken from a queue with `basic_get` and kept unacked until released."""

    def __init__(self, channel: Any, queue: str, count: int) -> None:
        self._channel = channel
        self._queue = queue
        self._count = count
        self._tags: set[int] = set()
        self.removed = 0  # of those, acked: gone for good

    def __iter__(self) -> Iterator[Delivery]:
        for _ in range(self._count):
            method, properties, body = self._channel.basic_get(self._queue, auto_ack=False)
            if method is None:  # expired by the XQ's TTL, or taken by someone else meanwhile
                return
            self._tags.add(method.delivery_tag)
            yield Delivery(method.delivery_tag, properties, body)

    def remove(self, delivery: Delivery) -> None:
        self._channel.basic_ack(delivery.tag)
        self._tags.discard(delivery.tag)
        self.removed += 1

    def remove_through(self, delivery: Delivery) -> None:
        """Remove every held message up to and including this one."""
        self._channel.basic_ack(delivery.tag, multiple=True)
        kept = {tag for tag in self._tags if tag > delivery.tag}
        self.removed += len(self._tags) - len(kept)
        self._tags = kept

    def release(self) -> bool:
        """Hand back every message still held; True when there were some."""
        handed_back = bool(self._tags) and self._channel.is_open
        if handed_back:
            # Every unacked tag up to the highest held one is a held one: one nack returns them all.
            self._channel.basic_nack(max(self._tags), multiple=True, requeue=True)
        self._tags.clear()
        return handed_back


class DeadLetterChannel:
    def __init__(self, connection: pika.BlockingConnection) -> None:
        self._connection = connection
        self._channel: Any = None

    @property
    def channel(self) -> Any:
        if self._channel is None or not self._channel.is_open:
            self._channel = self._connection.channel()
            self._channel.confirm_delivery()
        return self._channel

    def depth(self, queue: str) -> int | None:
        """Return how many messages wait in a queue, or None when it does not exist."""
        try:
            return int(self.channel.queue_declare(queue, passive=True).method.message_count)
        except ChannelClosedByBroker as exc:
            if exc.reply_code != 404:
                raise
            self._channel = None  # RabbitMQ closes the channel on a failed passive declare
            return None

    @contextmanager
    def hold(self, queue: str, limit: int | None = None) -> Iterator[HeldMessages]:
        """Hold the queue's messages unacked; on exit, every one not removed goes back where it was, and
        the command goes on once RabbitMQ shows them back (see `_await_returned`)."""
        depth = self.depth(queue) or 0
        held = HeldMessages(self.channel, queue, depth if limit is None else min(depth, limit))
        try:
            yield held
        finally:
            if held.release():
                self._await_returned(queue, depth - held.removed)

    def _await_returned(self, queue: str, expected: int) -> None:
        """Wait, briefly, until the queue holds `expected` messages again.

        RabbitMQ applies a requeue after it answered the nack (a quorum queue through its log), so a look
        at the queue right after a command, from this tool or another, could miss the messages it held.
        Best effort: one taken meanwhile by someone else, or expired, ends the wait at its deadline.
        """
        deadline = time.monotonic() + RETURN_WAIT_S
        with contextlib.suppress(AMQPError):
            while (self.depth(queue) or 0) < expected and time.monotonic() < deadline:
                time.sleep(0.02)

    def publish(self, queue: str, body: bytes, *, priority: int | None = None) -> None:
        """Publish to a queue (persistent, mandatory) and return only once RabbitMQ confirmed it."""
        properties = pika.BasicProperties(delivery_mode=2, priority=priority)
        try:
            self.channel.basic_publish("", queue, body, properties, mandatory=True)
        except UnroutableError:
            raise PublishRefused(f"queue {queue} does not exist (a worker declares it on start)") from None
        except NackError:
            raise PublishRefused(f"RabbitMQ refused the publish to {queue}") from None


@contextmanager
def dead_letter_channel(settings: Settings) -> Iterator[DeadLetterChannel]:
    """Open one connection for one command, to the first RABBITMQ_URL node that answers, and close it
    (requeueing anything still held) at the end."""
    try:
        # A command lives seconds, or waits on a person at purge's prompt: heartbeats would only cost the
        # connection when the answer is slow.
        connection = connect_rabbitmq(settings.rabbitmq_urls, heartbeat=0)
    except AMQPConnectionError as exc:
        where = ", ".join(
            f"{p.host}:{p.port}{p.virtual_host}" for p in map(pika.URLParameters, settings.rabbitmq_urls)
        )
        raise DlqError(f"cannot reach RabbitMQ at {where}: {exc!r}") from None
    try:
        yield DeadLetterChannel(connection)
    finally:
        if connection.is_open:
            connection.close()

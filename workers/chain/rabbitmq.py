"""The RabbitMQ side: confirmed, durable publishing through dramatiq, with a msgspec envelope codec.

Each stage queue, its `.DQ` (dramatiq's delays) and its `.XQ` (dead letters) is declared with the type
TRADEFLOW_QUEUE_TYPE names: `quorum` (replicated; RabbitMQ 3.10+, which the XQ's message TTL needs) or
`classic`. The type is always sent, so a vhost's default queue type never picks it. RabbitMQ cannot change
a queue's type in place and refuses a declare that disagrees (PRECONDITION_FAILED): that refusal stops the
process, naming the queue and the setting, rather than quietly keeping the other type, so a deployment
meant to replicate never runs on queues that do not.

RABBITMQ_URL may name every node of a cluster (Settings.rabbitmq_urls): each connection, a worker's or the
ingress's or an operator command's, is opened to the first node that answers, in the order given, and a
connection lost with its node is opened again the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import dramatiq
import msgspec
import pika
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from dramatiq.brokers.rabbitmq import DEAD_MESSAGE_TTL, RabbitmqBroker
from dramatiq.common import dq_name, q_name, xq_name
from dramatiq.errors import BrokerError, DecodeError
from dramatiq.middleware import AsyncIO, CurrentMessage, MiddlewareError, ShutdownNotifications, TimeLimit
from pika.exceptions import ChannelClosedByBroker

from telemetry.execution_metrics import ExecutionMetrics
from telemetry.metrics import StageMetrics
from telemetry.middleware import TracingMiddleware
from workers.chain.dead_letters import DeadLetters, is_permanent
from workers.chain.own_deliveries import OwnDeliveriesConsumer
from workers.chain.routing import QUEUE_NAMES
from workers.settings import Settings, attempt_limit_s, rabbitmq_urls

PRECONDITION_FAILED = 406

QueueType = Literal["quorum", "classic"]


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


def queue_arguments(queue_type: QueueType, queue: str) -> dict[str, Any]:
    """A stage queue's (and its .DQ's) arguments: dramatiq's dead-lettering into the XQ, and the type.

    Never `x-max-priority`: quorum queues refuse it before RabbitMQ 4.
    """
    return {
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": xq_name(queue),
        "x-queue-type": queue_type,
    }


def dead_letter_queue_arguments(queue_type: QueueType) -> dict[str, Any]:
    """The XQ's arguments: dramatiq's one TTL (RabbitMQ expires messages head-first) and the type."""
    return {"x-message-ttl": DEAD_MESSAGE_TTL, "x-queue-type": queue_type}


class QueueTypeMismatch(BrokerError):
    """A queue exists on RabbitMQ with another type than TRADEFLOW_QUEUE_TYPE asks for."""

    def __init__(self, queue: str, queue_type: QueueType, reply: str) -> None:
        other = "classic" if queue_type == "quorum" else "quorum"
        super().__init__(
            f"RabbitMQ queue {queue!r} exists with another type than TRADEFLOW_QUEUE_TYPE={queue_type} "
            f"asks for ({reply}). A queue's type cannot change in place: set TRADEFLOW_QUEUE_TYPE={other} "
            f"to keep it, or stop its producers, let the workers drain it, empty its .XQ (tradeflow dlq), "
            f"then delete it with its .DQ and .XQ (rabbitmqctl delete_queue NAME) to have it declared "
            f"again as {queue_type}."
        )
        self.queue = queue
        self.queue_type = queue_type


class TradeflowRabbitmq(RabbitmqBroker):
    """dramatiq's RabbitMQ broker declaring each queue, .DQ and .XQ with TRADEFLOW_QUEUE_TYPE's type,
    its consumers acking only their own deliveries (OwnDeliveriesConsumer).

    dramatiq builds every declare from these three methods (`get_queue_message_counts` too), so they
    are the only place the arguments live; the operator tools only ever declare passively.
    """

    def __init__(self, *, queue_type: QueueType, **kwargs: Any) -> None:
        if kwargs.get("max_priority"):
            raise ValueError("max_priority would set x-max-priority, which quorum queues refuse")
        super().__init__(**kwargs)
        self.queue_type: QueueType = queue_type

    @property
    def consumer_class(self) -> type[OwnDeliveriesConsumer]:
        return OwnDeliveriesConsumer

    def _build_queue_arguments(self, queue_name: str) -> dict[str, Any]:
        return queue_arguments(self.queue_type, queue_name)

    def _declare_queue(self, queue_name: str) -> Any:
        return self._declare(queue_name, queue_arguments(self.queue_type, queue_name))

    def _declare_dq_queue(self, queue_name: str) -> Any:
        return self._declare(dq_name(queue_name), queue_arguments(self.queue_type, queue_name))

    def _declare_xq_queue(self, queue_name: str) -> Any:
        return self._declare(xq_name(queue_name), dead_letter_queue_arguments(self.queue_type))

    def _declare(self, queue: str, arguments: dict[str, Any]) -> Any:
        try:
            return self.channel.queue_declare(queue=queue, durable=True, arguments=arguments)
        except ChannelClosedByBroker as exc:
            if exc.reply_code != PRECONDITION_FAILED or "x-queue-type" not in exc.reply_text:
                raise
            del self.channel  # RabbitMQ closed it; the next caller opens a fresh one
            raise QueueTypeMismatch(queue, self.queue_type, exc.reply_text) from None


class DaemonAsyncIO(AsyncIO):
    """dramatiq's AsyncIO middleware, its event loop thread a daemon.

    dramatiq starts that thread at boot and stops it only in `after_worker_shutdown`; a worker process
    whose start fails after boot (a RabbitMQ connection refused while SIGTERM was arriving, say) returns
    without that hook, and Python then waits forever for the non-daemon loop thread: a worker that never
    exits, consuming the next stack's messages. The normal path still stops the loop gracefully.
    """

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        loop_thread = EventLoopThread(self.logger)
        loop_thread.daemon = True
        loop_thread.start(timeout=1.0)
        set_event_loop_thread(loop_thread)


class WorkerCannotStart(MiddlewareError):
    """A boot hook's refusal: dramatiq lets only a MiddlewareError out of a hook, and so out of start()."""


class DeclareQueuesAtBoot(dramatiq.Middleware):
    """Declare a worker's queues before it consumes, so a QueueTypeMismatch stops the worker at start.

    Left to the consumer threads, the same error would be logged and retried every second by a worker
    that looks alive and consumes nothing.
    """

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if not isinstance(broker, RabbitmqBroker):
            return
        declared = broker.get_declared_queues()
        wanted = worker.consumer_whitelist
        try:
            for queue in sorted(declared & {q_name(q) for q in wanted} if wanted else declared):
                broker.declare_queue(queue, ensure=True)
        except QueueTypeMismatch as exc:
            raise WorkerCannotStart(str(exc)) from exc
        del broker.connection  # this thread's, idle from now on; each consumer opens its own


def build_rabbitmq(settings: Settings, *extra_middleware: dramatiq.Middleware) -> TradeflowRabbitmq:
    """A RabbitMQ connection that waits for publisher confirms (an ack means durable, DESIGN §4.3)."""
    dramatiq.set_encoder(MsgspecEnvelopeEncoder())
    time_limit_ms = int(attempt_limit_s(settings) * 1000)  # each trade's order lease lasts as long
    middleware: list[dramatiq.Middleware] = [
        DeclareQueuesAtBoot(),  # first: its refusal must come before any hook starts a thread
        TimeLimit(time_limit=time_limit_ms),
        ShutdownNotifications(),
        CurrentMessage(),
        DaemonAsyncIO(),
        TracingMiddleware(),
        StageMetrics(),
        ExecutionMetrics(),
        DeadLetters(
            max_retries=settings.tradeflow_max_retries,
            min_backoff_ms=settings.tradeflow_min_backoff_ms,
            max_backoff_ms=settings.tradeflow_max_backoff_ms,
            is_permanent=is_permanent,
            outage_budget_ms=int(settings.tradeflow_store_outage_budget_s * 1000),
            held_notice_after_ms=int(settings.tradeflow_held_notice_after_s * 1000),
            queue_of=settings.queue,
        ),
        *extra_middleware,
    ]
    urls = settings.rabbitmq_urls
    rabbitmq = TradeflowRabbitmq(
        # several nodes: pika tries them in order on every connection (each consumer's and publisher's)
        url=list(urls) if len(urls) > 1 else urls[0],
        confirm_delivery=True,
        middleware=middleware,
        queue_type=settings.tradeflow_queue_type,
    )
    # Under a memory or disk alarm RabbitMQ blocks a publishing connection (connection.blocked) until the
    # alarm clears: without a timeout pika waits for the confirm forever. With it, the blocked connection
    # is closed and the publish fails (after dramatiq's retries), so no caller hangs on an alarm.
    for parameters in rabbitmq.parameters if isinstance(rabbitmq.parameters, list) else [rabbitmq.parameters]:
        if parameters.blocked_connection_timeout is None:  # the URL's own value wins
            parameters.blocked_connection_timeout = settings.tradeflow_rabbitmq_blocked_timeout_s
    return rabbitmq


def rabbitmq_parameters(urls: str | Sequence[str]) -> list[pika.URLParameters]:
    """One set of connection parameters per node, in the order they are tried; `urls` is a list, or a
    RABBITMQ_URL value (one URL or several separated by commas)."""
    return [pika.URLParameters(url) for url in (rabbitmq_urls(urls) if isinstance(urls, str) else urls)]


def connect_rabbitmq(urls: str | Sequence[str], *, heartbeat: int | None = None) -> pika.BlockingConnection:
    """A connection to the first node of `urls` that answers; AMQPConnectionError when none does.

    `heartbeat` (seconds, 0: none) overrides the URLs' own, for a short-lived command's connection.
    """
    parameters = rabbitmq_parameters(urls)
    if heartbeat is not None:
        for each in parameters:
            each.heartbeat = heartbeat
    return pika.BlockingConnection(parameters)


def rabbitmq_answers(urls: str | Sequence[str]) -> bool:
    """Whether a node of `urls` accepts a connection now."""
    try:
        connect_rabbitmq(urls).close()
        return True
    except Exception:
        return False


def queue_depths(settings: Settings) -> list[tuple[str, int, int]]:
    """(queue, ready, dead letters) per queue, for the metrics gauges; empty while RabbitMQ is away."""
    try:
        connection = connect_rabbitmq(settings.rabbitmq_urls)
    except Exception:
        return []
    try:
        return [
            (
                settings.queue(s),
                queue_depth(connection, settings.queue(s))[0],
                queue_depth(connection, settings.queue(s) + ".XQ")[0],
            )
            for s in QUEUE_NAMES
        ]
    finally:
        connection.close()


def queue_depth(connection: pika.BlockingConnection, queue: str) -> tuple[int, int]:
    channel = connection.channel()
    try:
        method = channel.queue_declare(queue, passive=True).method
        return method.message_count, method.consumer_count
    except pika.exceptions.ChannelClosedByBroker:
        return 0, 0  # never declared: nothing waits in it and nothing consumes it
    finally:
        if channel.is_open:
            channel.close()

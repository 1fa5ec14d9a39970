"""TRADEFLOW_QUEUE_TYPE on real RabbitMQ: the type each queue really has, and a queue of the other type.

RabbitMQ compares `x-queue-type` on every declare, so without its management API a queue's type shows as
which declares it accepts: the arguments a worker uses, and not the same arguments with the other type.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import dramatiq
import pika
import pytest
from pika.exceptions import ChannelClosedByBroker

from workers.chain.rabbitmq import (
    QueueType,
    QueueTypeMismatch,
    TradeflowRabbitmq,
    WorkerCannotStart,
    build_rabbitmq,
    dead_letter_queue_arguments,
    queue_arguments,
)
from workers.settings import Settings, load_settings

OTHER: dict[QueueType, QueueType] = {"quorum": "classic", "classic": "quorum"}


def settings_for(rabbitmq_url: str, queue_prefix: str, queue_type: QueueType) -> Settings:
    return load_settings(
        {
            "RABBITMQ_URL": rabbitmq_url,
            "TRADEFLOW_QUEUE_PREFIX": queue_prefix,
            "TRADEFLOW_QUEUE_TYPE": queue_type,
        }
    )


@pytest.fixture
def connection(rabbitmq_url: str) -> Iterator[Any]:
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    yield connection
    connection.close()


def declare(connection: Any, queue: str, arguments: dict[str, Any]) -> str:
    """Declare on a channel of its own; return "ok" or RabbitMQ's refusal."""
    channel = connection.channel()
    try:
        channel.queue_declare(queue, durable=True, arguments=arguments)
    except ChannelClosedByBroker as exc:
        return f"{exc.reply_code} {exc.reply_text}"
    channel.close()
    return "ok"


def expected_arguments(queue: str, queue_type: QueueType) -> dict[str, dict[str, Any]]:
    return {
        queue: queue_arguments(queue_type, queue),
        f"{queue}.DQ": queue_arguments(queue_type, queue),
        f"{queue}.XQ": dead_letter_queue_arguments(queue_type),
    }


@pytest.mark.parametrize("queue_type", ["quorum", "classic"])
def test_a_worker_declares_its_queue_dq_and_xq_with_the_configured_type_and_delays_still_arrive(
    rabbitmq_url: str, queue_prefix: str, connection: Any, queue_type: QueueType
) -> None:
    settings = settings_for(rabbitmq_url, queue_prefix, queue_type)
    rabbitmq = build_rabbitmq(settings)
    queue = settings.queue("validation")
    arrived = threading.Event()

    @dramatiq.actor(actor_name="validation", queue_name=queue, broker=rabbitmq)
    def validation(payload: Any) -> None:
        arrived.set()

    worker = dramatiq.Worker(rabbitmq, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        validation.send_with_options(args=({"n": 1},), delay=50)  # through the .DQ, with an eta
        assert arrived.wait(30)
    finally:
        worker.stop()
        rabbitmq.close()

    for name, arguments in expected_arguments(queue, queue_type).items():
        assert declare(connection, name, arguments) == "ok"
        refusal = declare(connection, name, {**arguments, "x-queue-type": OTHER[queue_type]})
        assert refusal.startswith("406 PRECONDITION_FAILED - inequivalent arg 'x-queue-type'"), name


def test_the_queue_arguments_never_carry_a_priority_and_keep_dramatiqs_dead_letter_routing() -> None:
    for queue_type in ("quorum", "classic"):
        arguments = expected_arguments("validation", queue_type)
        assert all("x-max-priority" not in a for a in arguments.values())
        assert arguments["validation.DQ"]["x-dead-letter-routing-key"] == "validation.XQ"
        assert arguments["validation.XQ"]["x-message-ttl"] == 7 * 24 * 3600 * 1000
    with pytest.raises(ValueError, match="x-max-priority"):
        TradeflowRabbitmq(queue_type="quorum", max_priority=5)


def test_a_classic_queue_left_by_an_earlier_run_stops_a_quorum_worker_and_a_publish_naming_both(
    rabbitmq_url: str, queue_prefix: str, connection: Any
) -> None:
    settings = settings_for(rabbitmq_url, queue_prefix, "quorum")
    queue = settings.queue("execution")
    earlier = {k: v for k, v in queue_arguments("classic", queue).items() if k != "x-queue-type"}
    assert declare(connection, queue, earlier) == "ok"  # as dramatiq's own broker declared it
    rabbitmq = build_rabbitmq(settings)
    execution = dramatiq.actor(actor_name="execution", queue_name=queue, broker=rabbitmq)(lambda: None)
    try:
        worker = dramatiq.Worker(rabbitmq, queues={queue, f"{queue}.DQ"}, worker_threads=1)
        with pytest.raises(WorkerCannotStart) as stopped:
            worker.start()
        assert f"RabbitMQ queue '{queue}'" in str(stopped.value)
        assert "TRADEFLOW_QUEUE_TYPE=quorum" in str(stopped.value)
        assert "TRADEFLOW_QUEUE_TYPE=classic" in str(stopped.value)  # the way to keep it

        with pytest.raises(QueueTypeMismatch) as refused:
            execution.send()
        assert refused.value.queue == queue and refused.value.queue_type == "quorum"
    finally:
        rabbitmq.close()
    assert declare(connection, queue, queue_arguments("classic", queue)) == "ok"  # left as it was

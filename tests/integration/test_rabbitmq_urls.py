"""Every RabbitMQ client tradeflow has takes RABBITMQ_URL's several nodes and uses the first that answers:
the ingress's publisher, `tradeflow health`, the `dlq` tools and `up`, here with a node that is down first
in the list and the machine's node second."""

from __future__ import annotations

import socket

import pytest

from tests.fixtures_rabbitmq import QueueReader
from tests.waiting import eventually
from workers.chain.publisher import Publisher
from workers.console.checks.health import check_rabbitmq
from workers.console.dlq.channel import dead_letter_channel
from workers.console.stack.services import ensure_rabbitmq
from workers.console.stack.up import warn_of_foreign_consumers
from workers.console.trades.submit import build_command
from workers.settings import Settings, load_settings


def down_node_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"amqp://guest:guest@127.0.0.1:{port}/%2F"


@pytest.fixture
def settings(rabbitmq_url: str, queue_prefix: str) -> Settings:
    return load_settings(
        {
            "RABBITMQ_URL": f"{down_node_url()}, {rabbitmq_url}",
            "TRADEFLOW_QUEUE_PREFIX": queue_prefix,
            "OTEL_TRACES_EXPORTER": "none",
        }
    )


def test_the_ingress_publisher_confirms_through_the_node_that_answers(
    settings: Settings, reader: QueueReader
) -> None:
    publisher = Publisher(settings)
    try:
        publisher.submit(build_command(user_id="U123", side="buy", symbol="AAPL", quantity="1"))
    finally:
        publisher.close()
    eventually(lambda: reader.count(settings.queue("validation")) == 1, timeout=10)


def test_health_reads_every_queue_through_the_node_that_answers(settings: Settings) -> None:
    checks = check_rabbitmq(settings)
    assert checks[0].ok and checks[0].detail == "connected (one of 2 nodes)"
    assert {check.name for check in checks[1:]} >= {f"queue {settings.queue('validation')}"}


def test_the_dlq_tools_reach_the_node_that_answers(settings: Settings, reader: QueueReader) -> None:
    dead = settings.queue("validation") + ".XQ"
    reader.channel.queue_declare(dead, durable=True)
    reader.publish_raw(dead, b"{}")
    with dead_letter_channel(settings) as channel:
        assert channel.depth(dead) == 1


def test_up_finds_rabbitmq_running_and_looks_for_foreign_consumers_there(settings: Settings) -> None:
    ensure_rabbitmq(settings.rabbitmq_urls)  # one node answers: nothing is started
    assert warn_of_foreign_consumers(settings) == []

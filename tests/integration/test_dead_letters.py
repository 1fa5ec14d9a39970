"""DeadLetters on real RabbitMQ: transient failures retry with backoff, then go to the XQ with their story."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest

from tests.fixtures_rabbitmq import QueueReader
from tests.waiting import eventually
from workers.chain.rabbitmq import build_rabbitmq
from workers.handlers.errors import UnknownTrade
from workers.settings import load_settings
from workers.store.port import StoreUnavailable


@pytest.fixture
def rabbitmq(rabbitmq_url: str, queue_prefix: str) -> Iterator[dramatiq.Broker]:
    """The dead-letter alerts and notices these tests cause go to the test's own queues (`queue_prefix`
    deletes them), never to the unprefixed `alerts` a developer's `make up` consumes and would send on."""
    settings = load_settings(
        {
            "RABBITMQ_URL": rabbitmq_url,
            "TRADEFLOW_QUEUE_PREFIX": queue_prefix,
            "TRADEFLOW_MAX_RETRIES": "2",
            "TRADEFLOW_STORE_OUTAGE_BUDGET_S": "0",  # these tests count retries; outages: test_store_outage
            "TRADEFLOW_MIN_BACKOFF_MS": "20",
            "TRADEFLOW_MAX_BACKOFF_MS": "50",
            "OTEL_TRACES_EXPORTER": "none",
        }
    )
    broker = build_rabbitmq(settings)
    yield broker
    broker.close()


@pytest.fixture
def scratch(
    rabbitmq: dramatiq.Broker, rabbitmq_url: str, queue_prefix: str
) -> Iterator[tuple[str, QueueReader, dramatiq.Worker]]:
    """A queue of the test's own, a reader on it and a running worker; all removed afterwards."""
    queue = f"{queue_prefix}scratch"
    reader = QueueReader(rabbitmq_url)
    worker = dramatiq.Worker(rabbitmq, worker_threads=2, worker_timeout=100)
    yield queue, reader, worker
    worker.stop()
    for suffix in ("", ".DQ", ".XQ"):
        reader.channel.queue_delete(f"{queue}{suffix}")
    reader.close()


def test_a_transient_failure_retries_then_dead_letters_with_reason_traceback_and_history(
    rabbitmq: dramatiq.Broker, scratch: tuple[str, QueueReader, dramatiq.Worker], queue_prefix: str
) -> None:
    queue, reader, worker = scratch
    attempts: list[int] = []

    def always_throttled(payload: Any) -> None:
        attempts.append(1)
        raise StoreUnavailable("throttled")

    actor = dramatiq.actor(actor_name=queue, queue_name=queue, broker=rabbitmq)(always_throttled)
    worker.start()
    actor.send({"n": 1})
    eventually(lambda: reader.count(f"{queue}.XQ") == 1)
    assert len(attempts) == 3  # the first try and two retries
    [(_, body)] = reader.peek_all(f"{queue}.XQ")
    options = json.loads(body)["options"]
    assert options["dead_letter_reason"].startswith("retries exhausted (2): StoreUnavailable: throttled")
    assert options["retries"] == 2 and options["permanent"] is False
    assert "StoreUnavailable" in options["traceback"]
    assert [f["attempt"] for f in options["failures"]] == [1, 2, 3]
    assert json.loads(body)["args"] == [{"n": 1}]
    # The desk's alert that a dead letter waits goes to this deployment's (this test's) own alerts queue.
    # This worker consumes it too and, having no `alerts` actor, moves it to that queue's XQ: it rests there.
    alerts_xq = f"{queue_prefix}alerts.XQ"
    eventually(lambda: reader.count(alerts_xq) == 1)
    [(_, alert)] = reader.peek_all(alerts_xq)
    assert json.loads(alert)["args"][0]["subject"] == f"tradeflow: a dead letter waits in {queue}"


def test_a_transient_failure_that_clears_is_not_dead_lettered(
    rabbitmq: dramatiq.Broker, scratch: tuple[str, QueueReader, dramatiq.Worker]
) -> None:
    queue, reader, worker = scratch
    done: list[int] = []

    def fails_once(payload: Any) -> None:
        if not done:
            done.append(0)
            raise ConnectionResetError("connection reset by peer")
        done.append(1)

    actor = dramatiq.actor(actor_name=queue, queue_name=queue, broker=rabbitmq)(fails_once)
    worker.start()
    actor.send({"n": 2})
    eventually(lambda: done == [0, 1])
    assert reader.count(f"{queue}.XQ") == 0


def test_a_permanent_failure_skips_the_retries(
    rabbitmq: dramatiq.Broker, scratch: tuple[str, QueueReader, dramatiq.Worker]
) -> None:
    queue, reader, worker = scratch
    attempts: list[int] = []

    def unknown(payload: Any) -> None:
        attempts.append(1)
        raise UnknownTrade("trade x was never recorded")

    actor = dramatiq.actor(actor_name=queue, queue_name=queue, broker=rabbitmq)(unknown)
    worker.start()
    actor.send({"n": 3})
    eventually(lambda: reader.count(f"{queue}.XQ") == 1)
    assert attempts == [1]
    [(_, body)] = reader.peek_all(f"{queue}.XQ")
    assert json.loads(body)["options"]["permanent"] is True

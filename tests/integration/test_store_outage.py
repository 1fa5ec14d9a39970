"""A store outage on real RabbitMQ: waited out for minutes, not seconds; the trader of a trade held before it
was recorded hears it is delayed, and that it was not executed if the outage outlasts the budget."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest

from messages.codec import from_payload, to_payload
from messages.events import TradeHeld, TradeRecorded
from tests.fixtures_rabbitmq import QueueReader
from tests.unit.fakes import submit
from tests.waiting import eventually
from workers.chain.rabbitmq import build_rabbitmq
from workers.settings import Settings, load_settings
from workers.store.port import StoreUnavailable


def outage_settings(rabbitmq_url: str, prefix: str, *, budget_s: float, notice_after_s: float) -> Settings:
    return load_settings(
        {
            "RABBITMQ_URL": rabbitmq_url,
            "TRADEFLOW_QUEUE_PREFIX": prefix,
            "TRADEFLOW_MAX_RETRIES": "2",
            "TRADEFLOW_MIN_BACKOFF_MS": "20",
            "TRADEFLOW_MAX_BACKOFF_MS": "60",
            "TRADEFLOW_STORE_OUTAGE_BUDGET_S": str(budget_s),
            "TRADEFLOW_HELD_NOTICE_AFTER_S": str(notice_after_s),
        }
    )


class Stage:
    """One stage's queue served by a worker whose store is down for the first `down_s` seconds."""

    def __init__(self, settings: Settings, down_s: float) -> None:
        self.settings = settings
        self.rabbitmq = build_rabbitmq(settings)
        self.attempts = 0
        self.done: list[Any] = []
        back_at = time.monotonic() + down_s

        def validation(payload: Any) -> None:
            self.attempts += 1
            if time.monotonic() < back_at:
                raise StoreUnavailable("DynamoDB: ProvisionedThroughputExceededException")
            self.done.append(payload)

        queue = settings.queue("validation")
        self.actor = dramatiq.actor(actor_name="validation", queue_name=queue, broker=self.rabbitmq)(
            validation
        )
        self.worker = dramatiq.Worker(
            self.rabbitmq, queues={queue, f"{queue}.DQ"}, worker_threads=1, worker_timeout=100
        )
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()
        self.rabbitmq.close()


@pytest.fixture
def reader(rabbitmq_url: str) -> Iterator[QueueReader]:
    reader = QueueReader(rabbitmq_url)
    yield reader
    reader.close()


def held_notices(reader: QueueReader, settings: Settings) -> list[TradeHeld]:
    bodies = [json.loads(body) for _, body in reader.peek_all(settings.queue("notifications"))]
    notices = [from_payload(body["args"][0]) for body in bodies]
    assert all(isinstance(n, TradeHeld) for n in notices)
    return notices  # type: ignore[return-value]


def test_an_outage_longer_than_the_retry_count_is_waited_out_and_the_trader_told_delayed_once(
    rabbitmq_url: str, queue_prefix: str, reader: QueueReader
) -> None:
    settings = outage_settings(rabbitmq_url, queue_prefix, budget_s=60, notice_after_s=0.3)
    stage = Stage(settings, down_s=1.5)  # far more failures than TRADEFLOW_MAX_RETRIES=2 allows
    try:
        command = submit()
        stage.actor.send(to_payload(command))
        eventually(lambda: stage.done, timeout=30)
    finally:
        stage.stop()
    assert stage.attempts > 3 and reader.count(settings.queue("validation") + ".XQ") == 0
    [notice] = held_notices(reader, settings)
    assert (notice.state, notice.trade.trade_id, notice.stage) == (
        "delayed",
        command.trade.trade_id,
        settings.queue("validation"),
    )
    assert "ProvisionedThroughputExceeded" in notice.reason


def test_an_outage_that_outlasts_its_budget_dead_letters_the_submission_and_tells_not_executed(
    rabbitmq_url: str, queue_prefix: str, reader: QueueReader
) -> None:
    settings = outage_settings(rabbitmq_url, queue_prefix, budget_s=0.8, notice_after_s=0.2)
    stage = Stage(settings, down_s=3600)
    xq = settings.queue("validation") + ".XQ"
    try:
        command = submit()
        stage.actor.send(to_payload(command))
        eventually(lambda: reader.count(xq) == 1, timeout=30)
    finally:
        stage.stop()
    [(_, body)] = reader.peek_all(xq)
    assert json.loads(body)["options"]["dead_letter_reason"].startswith("store outage outlasted its budget")
    notices = held_notices(reader, settings)
    assert [(n.state, n.trade.trade_id) for n in notices] == [
        ("delayed", command.trade.trade_id),
        ("not_executed", command.trade.trade_id),
    ]


def test_a_recorded_trade_dead_lettered_tells_nobody_here_its_record_and_the_sweeper_do(
    rabbitmq_url: str, queue_prefix: str, reader: QueueReader
) -> None:
    settings = outage_settings(rabbitmq_url, queue_prefix, budget_s=0, notice_after_s=0)
    rabbitmq = build_rabbitmq(settings)
    queue = settings.queue("execution")

    def execution(payload: Any) -> None:
        raise StoreUnavailable("down")

    actor = dramatiq.actor(actor_name="execution", queue_name=queue, broker=rabbitmq)(execution)
    worker = dramatiq.Worker(rabbitmq, queues={queue, f"{queue}.DQ"}, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        trade = submit().trade
        recorded = TradeRecorded(trade=trade, recorded_at=trade.submitted_at)
        actor.send(to_payload(recorded))
        eventually(lambda: reader.count(f"{queue}.XQ") == 1, timeout=30)
    finally:
        worker.stop()
        rabbitmq.close()
    assert reader.count(settings.queue("notifications")) == 0


def test_a_cancel_dead_lettered_tells_the_trader_it_was_not_sent(
    rabbitmq_url: str, queue_prefix: str, reader: QueueReader
) -> None:
    import uuid
    from datetime import UTC, datetime

    from messages.events import CancelOrder, CancelRefused, cancel_command_id

    settings = outage_settings(rabbitmq_url, queue_prefix, budget_s=0, notice_after_s=0)
    rabbitmq = build_rabbitmq(settings)
    queue = settings.queue("execution")

    def execution(payload: Any) -> None:
        raise StoreUnavailable("down")

    actor = dramatiq.actor(actor_name="execution", queue_name=queue, broker=rabbitmq)(execution)
    worker = dramatiq.Worker(rabbitmq, queues={queue, f"{queue}.DQ"}, worker_threads=1, worker_timeout=100)
    worker.start()
    trade = submit().trade
    cancel = CancelOrder(
        trade=trade,
        command_id=cancel_command_id(trade.trade_id),
        requested_by="U123",
        requested_at=datetime.now(UTC),
    )
    try:
        actor.send(to_payload(cancel))
        eventually(lambda: reader.count(f"{queue}.XQ") == 1, timeout=30)
        eventually(lambda: reader.count(settings.queue("notifications")) == 1, timeout=10)
    finally:
        worker.stop()
        rabbitmq.close()
    [(_, body)] = reader.peek_all(settings.queue("notifications"))
    notice = from_payload(json.loads(body)["args"][0])
    assert isinstance(notice, CancelRefused) and notice.code == "CANCEL_NOT_SENT"
    assert notice.trade.trade_id == trade.trade_id and notice.command_id == cancel.command_id
    assert "may still be working" in notice.message and isinstance(notice.command_id, uuid.UUID)

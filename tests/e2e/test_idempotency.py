"""At-least-once delivery, exactly-once effect: duplicates at every stage change nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.e2e.stack import Stack
from tests.waiting import eventually
from workers.chain.publisher import Publisher
from workers.console.trades.submit import build_command
from workers.handlers.audit import NOTIFIED_KEY

pytestmark = pytest.mark.e2e


def test_three_submits_and_every_stage_delivered_twice_make_one_trade(duplicating_stack: Stack) -> None:
    stack = duplicating_stack
    command = build_command(user_id="U123", side="buy", quantity="7", symbol="MSFT")
    trade_id = command.trade.trade_id
    publisher = Publisher(stack.settings)
    try:
        for _ in range(3):
            publisher.submit(command)
    finally:
        publisher.close()

    eventually(lambda: stack.store_call(lambda s: s.get_audit(trade_id, NOTIFIED_KEY)))
    # let every duplicate drain before counting effects
    stages = ("validation", "persistence", "execution", "positions", "notifications")
    eventually(lambda: all(stack.queues.count(stack.queue(s)) == 0 for s in stages), timeout=30)

    doc = json.loads(stack.cli("trade", "show", str(trade_id), "--json").stdout)
    assert doc["trade"]["status"] == "executed"
    events = [a["event_type"] for a in doc["audit"]]
    assert events == [
        "trade_submitted",
        "trade_recorded",
        "trade_executed",
        "position_updated",
        "trade_notified",
    ]
    executions = {a["details"]["execution_id"] for a in doc["audit"] if a["event_type"] == "trade_executed"}
    assert executions == {doc["trade"]["execution_id"]}

    position = stack.store_call(lambda s: s.get_position("U123", "MSFT"))
    assert position.quantity == Decimal(7) and position.version == 1  # one position change
    notices = stack.outbox.read_text().count(f"trade {trade_id}")
    assert notices == 1  # one notification
    for stage in stages:
        assert stack.queues.count(f"{stack.queue(stage)}.XQ") == 0

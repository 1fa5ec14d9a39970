"""The tamper-evident audit trail on the stack: 200 trades verify; an item edited in DynamoDB is named."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aioboto3
import pytest

from messages.events import SubmitTrade
from tests.e2e.stack import Stack, all_told
from tests.waiting import eventually
from workers.chain.publisher import Publisher
from workers.console.trades.submit import build_command
from workers.handlers.audit import EVENT_KEYS

pytestmark = pytest.mark.e2e

SYMBOLS = ("AAPL", "MSFT", "NVDA", "SPY", "JPM")
EXECUTED_KEY = EVENT_KEYS["trade_executed"]


def _commands() -> list[SubmitTrade]:
    """200 trades: 180 that execute, 10 refused by validation, 10 that fail at execution."""
    commands = [
        build_command(user_id="U123", side="buy", quantity=str(1 + i % 5), symbol=SYMBOLS[i % len(SYMBOLS)])
        for i in range(180)
    ]
    commands += [  # above the per-trade quantity limit: refused by validation
        build_command(user_id="U123", side="buy", quantity="20000", symbol="AAPL") for _ in range(10)
    ]
    commands += [  # a limit far below the market cannot fill in the simulation
        build_command(
            user_id="U456", side="buy", quantity="1", symbol="MSFT", order_type="limit", limit_price="1"
        )
        for _ in range(10)
    ]
    return commands


def _publish(stack: Stack, commands: list[SubmitTrade]) -> None:
    publisher = Publisher(stack.settings)  # in-process and publisher-confirmed: 200 CLI starts would be slow
    try:
        for command in commands:
            publisher.submit(command)
    finally:
        publisher.close()


def _edit_audit_item(stack: Stack, trade_id: uuid.UUID, event_key: str) -> None:
    """Change one audit item in DynamoDB Local directly, as someone with table access would: UpdateItem."""

    async def edit() -> None:
        async with aioboto3.Session().client(
            "dynamodb",
            region_name=stack.settings.aws_region,
            endpoint_url=stack.settings.aws_endpoint_url_dynamodb,
            aws_access_key_id=stack.settings.aws_access_key_id,
            aws_secret_access_key=stack.settings.aws_secret_access_key,
        ) as client:
            await client.update_item(
                TableName=f"{stack.settings.dynamodb_table_prefix}-audit",
                Key={"trade_id": {"S": str(trade_id)}, "event_key": {"S": event_key}},
                UpdateExpression="SET #details.#price = :price",
                ExpressionAttributeNames={"#details": "details", "#price": "execution_price"},
                ExpressionAttributeValues={":price": {"S": "1.00"}},
                ConditionExpression="attribute_exists(event_key)",
            )

    asyncio.run(edit())


def _keep_alive(stack: Stack) -> None:
    # The fixture's RabbitMQ connection is serviced only when used; minutes of idling lose it to heartbeats.
    stack.queues.count(stack.queue("validation"))


def _verify(stack: Stack, *args: str) -> tuple[int, dict[str, Any]]:
    done = stack.cli("audit", "verify", *args, "--json", timeout=300)
    _keep_alive(stack)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_200_trades_verify_and_an_audit_item_edited_in_dynamodb_is_named(stack: Stack) -> None:
    commands = _commands()
    _publish(stack, commands)
    trade_ids = [command.trade.trade_id for command in commands]
    told = all_told(stack, trade_ids)
    eventually(lambda: _keep_alive(stack) or told(), timeout=300, interval=1.0)

    code, doc = _verify(stack, "--all")
    assert code == 0, doc
    assert (doc["ok"], doc["trades"], doc["broken"], doc["unchained"]) == (True, 200, [], [])
    events = stack.store_call(lambda store: asyncio.gather(*(store.list_audit(t) for t in trade_ids)))
    assert doc["links"] == sum(len(trail) for trail in events) >= 200 * 3

    executed = [trail[0].trade_id for trail in events if any(e.event_key == EXECUTED_KEY for e in trail)]
    assert len(executed) == 180
    target, bystander = executed[17], executed[18]
    _edit_audit_item(stack, target, EXECUTED_KEY)

    code, doc = _verify(stack, "--all")
    assert code == 1 and doc["ok"] is False and doc["trades"] == 200
    assert [(b["trade_id"], b["event_key"], b["event_type"]) for b in doc["broken"]] == [
        (str(target), EXECUTED_KEY, "trade_executed")
    ]
    assert "changed after it was written" in doc["broken"][0]["reason"]

    code, doc = _verify(stack, str(target))
    assert (code, doc["status"], doc["broken"]["event_key"]) == (1, "broken", EXECUTED_KEY)
    assert _verify(stack, str(bystander))[0] == 0

    told = stack.cli("audit", "verify", str(target))
    _keep_alive(stack)
    assert told.returncode == 1
    assert str(target) in told.stdout and f"at event {EXECUTED_KEY} (trade_executed" in told.stdout

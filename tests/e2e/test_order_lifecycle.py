"""A trader's orders after they are sent, from Slack's side over real sockets: a resting limit buy canceled
from its DM's Cancel button (clicked twice: one cancel at Alpaca, one notice), a partly filled order
canceled with `/trade cancel` (the position keeps the filled part), and `/trade close` flattening a position
through the whole chain."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.e2e.stack import SlackStack
from tests.waiting import eventually

pytestmark = pytest.mark.e2e


async def _trade(flow: SlackStack, text: str) -> str:
    """`/trade TEXT`, then Execute Trade on the prefilled modal; returns the trade id."""
    command = await flow.driver.slash_command(text)
    assert command.status == 200
    view = eventually(lambda: flow.driver.opened_view(command.trigger_id), timeout=10)
    answer = await flow.driver.submit_view(view)
    assert answer.status == 200 and answer.body["response_action"] == "update"
    return str(json.loads(view["private_metadata"])["trade_id"])


def _dms(flow: SlackStack, count: int) -> list[dict[str, Any]]:
    """The trader's DMs, once there are at least `count`."""

    def enough() -> list[dict[str, Any]] | None:
        messages = flow.driver.messages_to("U123")
        return messages if len(messages) >= count else None

    return eventually(enough, timeout=60)


def _text(message: dict[str, Any]) -> str:
    return json.dumps(message.get("blocks"), ensure_ascii=False) + str(message.get("text"))


def _audit_types(flow: SlackStack, trade_id: str) -> list[str]:
    events = flow.stack.store_call(lambda store: store.list_audit(uuid.UUID(trade_id)))
    return [event.event_type for event in events]


def _cancel_requests(flow: SlackStack, order_id: str) -> int:
    """The cancels Alpaca answered for this order (DELETE /v2/orders/{order_id})."""
    requests = flow.stack.emulator.admin.requests()["requests"]
    return sum(
        1 for r in requests if r["method"] == "DELETE" and r["path"].endswith(f"/v2/orders/{order_id}")
    )


async def test_a_resting_order_is_canceled_once_from_its_dm_button_clicked_twice(
    slack_stack: SlackStack,
) -> None:
    trade_id = await _trade(slack_stack, "buy 3 AAPL limit 1 gtc")
    [working] = _dms(slack_stack, 1)
    assert "Order Accepted, Working" in _text(working) and "cancel_order" in _text(working)
    [order] = slack_stack.stack.emulator.admin.orders(trade_id)

    first = await slack_stack.driver.block_action(working, "cancel_order")
    second = await slack_stack.driver.block_action(working, "cancel_order")  # a double click

    assert first.status == 200 and second.status == 200
    eventually(lambda: slack_stack.stack.trade_status(trade_id) == "failed", timeout=30)
    dms = _dms(slack_stack, 2)
    assert "ORDER_CANCELED" in _text(dms[1]) and "canceled" in _text(dms[1])
    eventually(
        lambda: (
            {"cancel_requested", "canceled", "trade_notified"} <= set(_audit_types(slack_stack, trade_id))
        ),
        timeout=20,
    )
    assert _cancel_requests(slack_stack, order["id"]) == 1
    assert slack_stack.stack.emulator.admin.orders(trade_id)[0]["status"] == "canceled"
    answers = slack_stack.slack.admin.messages(user="U123", kind="response_url")
    assert any("Cancel requested for 1 order" in str(a.get("text")) for a in answers)
    assert len(slack_stack.driver.messages_to("U123")) == 2  # working, then canceled: one notice each


async def test_a_partly_filled_order_canceled_keeps_its_filled_part_and_a_close_flattens_it(
    slack_stack: SlackStack,
) -> None:
    admin = slack_stack.stack.emulator.admin
    admin.configure(partial_fills=4, partial_interval_ms=60_000)  # one quarter now, the rest much later
    trade_id = await _trade(slack_stack, "buy 8 AAPL limit 100000 gtc")
    eventually(
        lambda: admin.orders(trade_id) and admin.orders(trade_id)[0]["status"] == "partially_filled",
        timeout=30,
    )
    eventually(lambda: slack_stack.stack.trade_status(trade_id) == "working", timeout=30)

    answer = await slack_stack.driver.slash_command(f"cancel {trade_id}")
    assert answer.status == 200 and "Cancel requested for 1 order" in str(answer.body)

    eventually(lambda: slack_stack.stack.trade_status(trade_id) == "executed", timeout=30)
    record = slack_stack.stack.store_call(lambda store: store.get_trade(uuid.UUID(trade_id)))
    assert record.filled_quantity == 2 and admin.orders(trade_id)[0]["status"] == "canceled"
    position = eventually(lambda: _position(slack_stack, "AAPL"), timeout=30)
    assert position == 2  # the filled part, and no more

    admin.configure(partial_fills=1)
    closing = await slack_stack.driver.slash_command("close AAPL")
    assert closing.status == 200 and "SELL 2 AAPL submitted" in str(closing.body)
    eventually(lambda: _position(slack_stack, "AAPL") == 0, timeout=60)
    # the close went down the chain as a trade of its own: audited, executed at Alpaca, told
    sells = [o for o in admin.orders() if o["side"] == "sell" and o["symbol"] == "AAPL"]
    assert len(sells) == 1 and sells[0]["status"] == "filled"
    assert "Trade Executed" in _text(_dms(slack_stack, 3)[-1])

    refused = await slack_stack.driver.slash_command(f"cancel {trade_id}")
    assert "already executed" in str(refused.body)  # nothing left to cancel: a clear answer


def _position(flow: SlackStack, symbol: str) -> object:
    positions = flow.stack.store_call(lambda store: store.list_positions("U123"))
    held = [p.quantity for p in positions if p.symbol == symbol]
    return held[0] if held else None

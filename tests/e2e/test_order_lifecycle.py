"""A trader's orders after they are sent, from Slack's side over real sockets: a resting limit buy canceled
from its DM's Cancel button (clicked twice: one cancel at Alpaca, one notice), a partly filled order
canceled with `/trade cancel` (the position keeps the filled part), and `/trade close` flattening a position
through the whole chain; and an operator's `tradeflow trade cancel`, `halt --cancel-working` and
`positions close`."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from tests.e2e.stack import SlackStack, Stack
from tests.waiting import eventually
from workers.console.common import EXIT_REFUSED, EXIT_USAGE

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

    orders = ""
    for _ in range(100):  # the open-trades index is eventually consistent on DynamoDB
        orders = json.dumps((await slack_stack.driver.slash_command("orders")).body, ensure_ascii=False)
        if trade_id in orders:
            break
        await asyncio.sleep(0.2)
    assert "*Your working orders*" in orders and "BUY 3 AAPL limit 1 gtc" in orders
    assert "Cancel BUY 3 AAPL" in orders  # its Cancel button

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

    from telemetry.otlp_sink import read_spans

    def cancel_traced() -> bool:  # the cancel's request to Alpaca is a span of the trade's own trace
        spans = read_spans(slack_stack.stack.spans_path)
        mine = [s for s in spans if s["trace_id"] == trade_id.replace("-", "") and s["kind"] == "CLIENT"]
        return any(s["name"].startswith("DELETE ") and "/v2/orders/" in s["name"] for s in mine)

    eventually(cancel_traced, timeout=20)

    account = await slack_stack.driver.slash_command("account")
    assert account.status == 200 and "Buying power $" in str(account.body)


async def test_a_resting_order_modified_from_its_dm_is_replaced_at_alpaca_by_a_trade_of_its_own(
    slack_stack: SlackStack,
) -> None:
    admin = slack_stack.stack.emulator.admin
    original = await _trade(slack_stack, "buy 3 AAPL limit 1 gtc")
    [working] = _dms(slack_stack, 1)
    [old_order] = admin.orders(original)

    clicked = await slack_stack.driver.block_action(working, "modify_order")
    modal = eventually(lambda: slack_stack.driver.opened_view(clicked.trigger_id), timeout=10)
    assert "Modify order" in json.dumps(modal)
    sent = await slack_stack.driver.submit_view(modal, {"quantity": "5", "limit_price": "2"})
    assert sent.status == 200 and sent.body["response_action"] == "update"
    assert "Modify sent" in json.dumps(sent.body["view"])  # the modal now says so: no second submit

    replacement = str(json.loads(modal["private_metadata"])["replacement_id"])
    eventually(lambda: slack_stack.stack.trade_status(replacement) == "working", timeout=30)
    eventually(lambda: slack_stack.stack.trade_status(original) == "failed", timeout=30)
    [new_order] = admin.orders(replacement)
    assert (new_order["qty"], new_order["limit_price"], new_order["replaces"]) == ("5", "2", old_order["id"])
    assert admin.orders(original)[0]["status"] == "replaced"
    patches = [r for r in admin.requests()["requests"] if r["method"] == "PATCH"]
    assert len(patches) == 1  # one replace at Alpaca
    dms = _dms(slack_stack, 3)
    texts = [_text(dm) for dm in dms]
    assert any("Order Modified" in t and "ORDER_REPLACED" in t for t in texts)
    assert any("Order Accepted, Working" in t and replacement in t for t in texts)
    assert "modified" in _audit_types(slack_stack, original)


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

    ford = await _trade(
        slack_stack, "buy 1 F"
    )  # Ford: not one of a hard-coded list, traded as Alpaca trades it
    eventually(lambda: slack_stack.stack.trade_status(ford) == "executed", timeout=30)


def _position(flow: SlackStack, symbol: str) -> object:
    positions = flow.stack.store_call(lambda store: store.list_positions("U123"))
    held = [p.quantity for p in positions if p.symbol == symbol]
    return held[0] if held else None


def _resting(stack: Stack, user: str, symbol: str) -> str:
    done = stack.cli(
        "submit", "--user", user, "buy", "3", symbol, "--type", "limit", "--limit-price", "1", "--tif", "gtc",
        "--wait", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["status"] == "working", doc
    return str(doc["trade_id"])


def test_an_operator_cancels_from_the_cli_and_halt_cancels_every_working_order(alpaca_stack: Stack) -> None:
    mine = _resting(alpaca_stack, "U123", "AAPL")
    theirs = _resting(alpaca_stack, "U456", "MSFT")
    third = _resting(alpaca_stack, "U123", "MSFT")

    refused = alpaca_stack.cli("trade", "cancel", mine, "--as", "U123")  # a trader is no operator here
    assert refused.returncode == EXIT_REFUSED
    done = alpaca_stack.cli("trade", "cancel", "AAPL", "--user", "U123", "--wait", "30", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    [row] = json.loads(done.stdout)["orders"]
    assert (row["trade_id"], row["status"]) == (mine, "failed")
    assert alpaca_stack.trade_status(theirs) == alpaca_stack.trade_status(third) == "working"

    halted = alpaca_stack.cli("halt", "--cancel-working", "--reason", "drill", "--json")
    assert halted.returncode == 0, halted.stdout + halted.stderr
    assert {o["trade_id"] for o in json.loads(halted.stdout)["cancel_requested"]} == {theirs, third}
    for trade_id in (theirs, third):
        eventually(lambda t=trade_id: alpaca_stack.trade_status(t) == "failed", timeout=30)
        assert alpaca_stack.emulator.admin.orders(trade_id)[0]["status"] == "canceled"
    again = alpaca_stack.cli("trade", "cancel", mine)
    assert again.returncode == EXIT_USAGE and "already failed" in again.stderr
    assert alpaca_stack.cli("resume").returncode == 0


def test_an_operator_closes_a_traders_position_through_the_chain(alpaca_stack: Stack) -> None:
    done = alpaca_stack.cli("submit", "--user", "U123", "buy", "4", "TSLA", "--wait", "--json")
    assert done.returncode == 0, done.stdout + done.stderr

    closed = alpaca_stack.cli("positions", "close", "U123", "TSLA", "--json")
    assert closed.returncode == 0, closed.stdout + closed.stderr
    [sell] = json.loads(closed.stdout)["submitted"]
    assert (sell["side"], sell["quantity"]) == ("sell", "4")
    eventually(lambda: alpaca_stack.trade_status(sell["trade_id"]) == "executed", timeout=30)
    positions = json.loads(alpaca_stack.cli("positions", "U123", "--json").stdout)
    held = {p["symbol"]: p["quantity"] for p in positions["positions"]}
    assert held.get("TSLA", "0") == "0"  # flat (listed only while it carries a realized P&L)
    nothing = alpaca_stack.cli("positions", "close", "U123", "TSLA")
    assert nothing.returncode == EXIT_USAGE and "no TSLA to close" in nothing.stderr


def test_an_operator_modifies_a_working_order_from_the_cli(alpaca_stack: Stack) -> None:
    original = _resting(alpaca_stack, "U123", "AAPL")

    done = alpaca_stack.cli(
        "trade", "modify", original, "--quantity", "4", "--limit-price", "2", "--wait", "30", "--json"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert (doc["status"], doc["quantity"], doc["limit_price"]) == ("working", "4", "2")
    [order] = alpaca_stack.emulator.admin.orders(doc["replacement_trade_id"])
    assert (order["qty"], order["limit_price"]) == ("4", "2")
    eventually(lambda: alpaca_stack.trade_status(original) == "failed", timeout=30)
    shown = json.loads(alpaca_stack.cli("trade", "show", original, "--json").stdout)
    assert "modified" in json.dumps(shown) and "ORDER_REPLACED" in json.dumps(shown)

    bad = alpaca_stack.cli("trade", "modify", original, "--limit-price", "3")
    assert bad.returncode == EXIT_USAGE and "already failed" in bad.stderr
    nonsense = alpaca_stack.cli("trade", "modify", doc["replacement_trade_id"], "--limit-price", "abc")
    assert nonsense.returncode == EXIT_USAGE and "not a number" in nonsense.stderr

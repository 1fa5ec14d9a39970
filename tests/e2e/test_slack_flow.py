"""The seed's user interaction from Slack's side over real sockets: /trade, the modal, Execute, the DM."""

from __future__ import annotations

import pytest

from tests.e2e.stack import SlackStack
from tests.waiting import eventually

pytestmark = pytest.mark.e2e

SUCCESS_FIELDS = (
    "✅ Trade Executed Successfully",
    "Symbol",
    "AAPL",
    "Type",
    "BUY",
    "Quantity",
    "10",
    "Trade ID",
    "Method",
    "Alpaca Paper Trading",
    "Alpaca Order ID",
    "Execution Price",
    "Execution Time",
    "Slippage",
    "App Home",
)
FAILURE_FIELDS = (
    "❌ Trade Execution Failed",  # the seed's header, also for a trade refused before any order
    "• Error: Market is closed",  # the seed's Error and Error Code lines, exactly
    "• Error Code: MARKET_CLOSED",
    "Symbol",
    "Type",
    "Quantity",
    "Trade ID",
    "Error",
    "Market is closed",
    "Error Code",
    "MARKET_CLOSED",
    "Next Steps",
    "Check market hours",
    "Reference Trade ID",
)


def _message_text(message: dict[str, object]) -> str:
    """Everything the trader sees in a DM: the blocks' texts and the fallback text."""
    import json

    return json.dumps(message.get("blocks"), ensure_ascii=False) + str(message.get("text"))


async def _trade(flow: SlackStack, text: str) -> str:
    """`/trade TEXT`, then Execute Trade on the prefilled modal; returns the trade id."""
    import json

    command = await flow.driver.slash_command(text)
    assert command.status == 200 and command.elapsed_s < 3
    view = eventually(lambda: flow.driver.opened_view(command.trigger_id), timeout=10)
    answer = await flow.driver.submit_view(view)
    assert answer.status == 200 and answer.elapsed_s < 3
    assert answer.body["response_action"] == "update"
    assert "Submitting" in json.dumps(answer.body["view"])
    return str(json.loads(view["private_metadata"])["trade_id"])


async def test_a_slash_command_trade_ends_in_a_dm_with_every_field_of_the_seed(
    slack_stack: SlackStack,
) -> None:
    trade_id = await _trade(slack_stack, "buy 10 AAPL")
    dms = eventually(lambda: slack_stack.driver.messages_to("U123"), timeout=60)
    [dm] = dms
    text = _message_text(dm)
    for field in (*SUCCESS_FIELDS, trade_id):
        assert field in text, field
    [order] = slack_stack.stack.emulator.admin.orders(trade_id)
    assert order["id"] in text
    home = eventually(lambda: slack_stack.driver.home_view("U123"), timeout=20)
    assert "AAPL" in str(home)

    from telemetry.otlp_sink import read_spans

    def client_calls() -> set[str]:
        spans = read_spans(slack_stack.stack.spans_path)
        names = {
            s["name"] for s in spans if s["trace_id"] == trade_id.replace("-", "") and s["kind"] == "CLIENT"
        }
        # OTel's instrumentations name an HTTP call by its route: Alpaca's order, Slack's DM.
        placed = any(name.startswith("POST ") and name.endswith("/v2/orders") for name in names)
        return names if placed and "POST /api/chat.postMessage" in names else set()

    calls = eventually(client_calls, timeout=20)  # the trade's trace holds its Alpaca and Slack calls
    assert any(name.startswith("DynamoDB.") for name in calls)


async def test_a_market_closed_trade_gets_a_dm_with_every_field_of_the_seeds_failure(
    slack_stack: SlackStack,
) -> None:
    slack_stack.stack.emulator.admin.close_market()
    trade_id = await _trade(slack_stack, "buy 1 AAPL")
    [dm] = eventually(lambda: slack_stack.driver.messages_to("U123"), timeout=60)
    text = _message_text(dm)
    for field in (*FAILURE_FIELDS, trade_id):
        assert field in text, field


async def test_a_dm_answered_429_twice_then_200_arrives_once(slack_stack: SlackStack) -> None:
    slack_stack.slack.admin.rate_limit("chat.postMessage", times=2, retry_after_s=1)
    await _trade(slack_stack, "buy 2 MSFT")
    eventually(lambda: slack_stack.driver.messages_to("U123"), timeout=60)
    posts = slack_stack.slack.admin.calls("chat.postMessage")
    assert [call["status"] for call in posts] == [429, 429, 200]
    assert len(slack_stack.driver.messages_to("U123")) == 1


async def test_a_bad_form_gets_errors_under_the_right_blocks(slack_stack: SlackStack) -> None:
    command = await slack_stack.driver.slash_command("")
    view = eventually(lambda: slack_stack.driver.opened_view(command.trigger_id), timeout=10)
    answer = await slack_stack.driver.submit_view(
        view, {"side": "buy", "symbol": "aa$", "quantity": "-3", "order_type": "limit"}
    )
    assert answer.body["response_action"] == "errors"
    assert {"symbol", "quantity", "limit_price"} <= set(answer.body["errors"])


async def test_submitting_the_same_modal_twice_is_one_trade(slack_stack: SlackStack) -> None:
    import json

    from emulators.slack import filling, payloads

    command = await slack_stack.driver.slash_command("buy 3 AAPL")
    view = eventually(lambda: slack_stack.driver.opened_view(command.trigger_id), timeout=10)
    # The same submission delivered twice (a double click, or Slack retrying a slow ack)
    admin = slack_stack.slack.admin
    state = filling.state_values(view, {}, kept=view["state"]["values"])
    payload = payloads.view_submission(admin.config(), view, state, user=("U123", "trader"), trigger_id="T1")
    body = payloads.interactive(payload)
    first = await slack_stack.driver.post_signed(body, payloads.FORM)
    second = await slack_stack.driver.post_signed(body, payloads.FORM)
    assert first.status == second.status == 200
    trade_id = json.loads(view["private_metadata"])["trade_id"]
    eventually(lambda: slack_stack.driver.messages_to("U123"), timeout=60)
    assert len(slack_stack.stack.emulator.admin.orders(trade_id)) == 1
    assert len(slack_stack.driver.messages_to("U123")) == 1


async def test_the_app_home_shows_the_portfolio_and_opens_a_new_trade(slack_stack: SlackStack) -> None:
    await _trade(slack_stack, "buy 5 AAPL")
    eventually(lambda: slack_stack.driver.messages_to("U123"), timeout=60)
    await slack_stack.driver.app_home_opened("U123")
    home = eventually(lambda: slack_stack.driver.home_view("U123"), timeout=20)
    assert "AAPL" in str(home) and "New trade" in str(home)
    clicked = await slack_stack.driver.block_action(home, "new_trade")
    assert clicked.status == 200
    opened = eventually(lambda: slack_stack.driver.opened_view(clicked.trigger_id), timeout=10)
    assert opened["callback_id"] == "trade_modal"


async def test_trade_positions_and_orders_answer_the_trader_in_the_channel(slack_stack: SlackStack) -> None:
    trade_id = await _trade(slack_stack, "buy 10 AAPL")
    eventually(lambda: slack_stack.driver.messages_to("U123"), timeout=60)  # executed, and told

    positions = await slack_stack.driver.slash_command("positions")
    assert positions.status == 200 and positions.body["response_type"] == "ephemeral"
    assert positions.body["text"].startswith("*Your positions*\n• AAPL 10 @ $")
    assert "unrealized" in positions.body["text"] and "realized" in positions.body["text"]

    orders = await slack_stack.driver.slash_command("orders")
    assert orders.body["response_type"] == "ephemeral"
    text = orders.body["text"]
    assert text.startswith("You have no working orders.\n*Recent trades*")
    assert "BUY 10 AAPL market day · executed, filled 10 at $" in text and trade_id in text

    help_text = (await slack_stack.driver.slash_command("help")).body["text"]
    assert "`/trade orders`" in help_text and "`/trade positions`" in help_text

"""What a trader and an operator look at on the real stack: `tradeflow orders` (working orders apart from
recent trades), `tradeflow account` (the Alpaca account a trade moved) and `tradeflow positions reconcile`
(no drift after tradeflow's own trades; the drift an order placed straight at Alpaca leaves, named by
symbol, in `tradeflow health` too)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from tests.e2e.stack import Stack
from tests.fixtures_alpaca import trading_client
from tests.waiting import eventually

pytestmark = pytest.mark.e2e


def _reconcile(stack: Stack) -> tuple[int, dict[str, object]]:
    done = stack.cli("positions", "reconcile", "--json")
    return done.returncode, json.loads(done.stdout)


def test_positions_match_alpacas_after_a_clean_run_and_an_outside_order_is_named_as_drift(
    alpaca_stack: Stack,
) -> None:
    for side, quantity in (("buy", "5"), ("sell", "2")):
        done = alpaca_stack.cli("submit", "--user", "U123", side, quantity, "AAPL", "--wait", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
    done = alpaca_stack.cli("submit", "--user", "U456", "buy", "4", "AAPL", "--wait", "--json")
    assert done.returncode == 0, done.stdout + done.stderr

    code, doc = _reconcile(alpaca_stack)
    assert code == 0, doc
    assert doc["compared"] is True and doc["drift"] == []
    health = json.loads(alpaca_stack.cli("health", "--json").stdout)
    assert [c["ok"] for c in health["checks"] if c["name"] == "positions"] == [True]
    assert doc["symbols"] == [{"symbol": "AAPL", "tradeflow": "7", "alpaca": "7", "drift": "0"}]

    # Someone buys at the account directly, not through tradeflow.
    outside = trading_client(alpaca_stack.emulator)
    order = outside.submit_order(
        MarketOrderRequest(symbol="MSFT", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    eventually(lambda: outside.get_order_by_id(order.id).status is OrderStatus.FILLED, timeout=10)

    code, doc = _reconcile(alpaca_stack)
    assert code == 1, doc
    assert doc["drift"] == ["MSFT"]
    assert {"symbol": "MSFT", "tradeflow": "0", "alpaca": "2", "drift": "2"} in doc["symbols"]
    text = alpaca_stack.cli("positions", "reconcile").stdout
    assert "MSFT" in text and "1 symbol(s) drift: MSFT" in text
    # `tradeflow health` names it too, and fails for it
    health = json.loads(alpaca_stack.cli("health", "--json").stdout)
    [positions] = [c for c in health["checks"] if c["name"] == "positions"]
    assert positions["ok"] is False and positions["data"] == {"drift": ["MSFT"]}
    assert "MSFT (Alpaca 2, tradeflow 0)" in positions["detail"]


def test_with_alpaca_off_there_is_nothing_to_compare(stack: Stack) -> None:
    code, doc = _reconcile(stack)
    assert code == 0, doc
    assert doc["compared"] is False and "Alpaca is off" in str(doc["why"])


def test_tradeflow_orders_lists_a_traders_working_order_apart_from_their_recent_trades(
    alpaca_stack: Stack,
) -> None:
    done = alpaca_stack.cli("submit", "--user", "U123", "buy", "2", "MSFT", "--wait", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    executed = json.loads(done.stdout)["trade_id"]
    resting = alpaca_stack.cli(
        "submit", "--user", "U123", "buy", "3", "AAPL", "--type", "limit", "--limit-price", "1",
        "--tif", "gtc", "--wait", "--json",
    )  # fmt: skip
    assert resting.returncode == 0, resting.stdout + resting.stderr
    working = json.loads(resting.stdout)["trade_id"]
    done = alpaca_stack.cli("submit", "--user", "U456", "buy", "1", "AAPL", "--wait", "--json")
    assert done.returncode == 0  # another trader's trade is not listed

    def listed() -> dict[str, object] | None:  # the indexes are eventually consistent on DynamoDB
        doc = json.loads(alpaca_stack.cli("orders", "U123", "--json").stdout)
        return doc if len(doc["working"]) == 1 and len(doc["recent"]) == 1 else None

    doc = eventually(listed, timeout=10)
    [order] = doc["working"]
    assert (order["trade_id"], order["status"], order["limit_price"]) == (working, "working", "1")
    assert order["alpaca_order_id"] == alpaca_stack.emulator.admin.orders(working)[0]["id"]
    [recent] = doc["recent"]
    assert (recent["trade_id"], recent["status"]) == (executed, "executed")
    assert recent["execution_method"] == "alpaca"
    text = alpaca_stack.cli("orders", "U123").stdout
    assert text.startswith("Working orders of U123:")
    assert f"{working}  BUY 3 AAPL limit 1 gtc  working" in text


def test_tradeflow_account_shows_the_alpaca_account_a_trade_moved(alpaca_stack: Stack) -> None:
    before = json.loads(alpaca_stack.cli("account", "--json").stdout)
    assert before["read"] is True
    done = alpaca_stack.cli("submit", "--user", "U123", "buy", "5", "AAPL", "--wait", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    spent = Decimal(str(json.loads(done.stdout)["execution_price"])) * 5

    done = alpaca_stack.cli("account", "--json")
    assert done.returncode == 0, done.stderr
    after = json.loads(done.stdout)
    assert Decimal(after["cash"]) == (Decimal(before["cash"]) - spent).quantize(Decimal("0.01"))
    assert after["account_number"].startswith("P") and after["status"] == "ACTIVE"
    assert {"buying_power", "equity", "last_equity", "change_today", "change_today_pct"} <= set(after)
    assert "buying power" in alpaca_stack.cli("account").stdout


def test_tradeflow_account_with_alpaca_off_says_there_is_no_account(stack: Stack) -> None:
    done = stack.cli("account")
    assert done.returncode == 0 and "the simulation keeps no account" in done.stdout

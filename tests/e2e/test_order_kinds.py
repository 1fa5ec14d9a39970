"""The richer order kinds through the whole chain on the Alpaca emulator: a dollar amount filled in
fractional shares, a trailing stop that follows the price up and fills on the way down, and the
after-hours session, where an extended-hours limit order trades and a market order is refused."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.stack import SlackStack, Stack
from tests.waiting import eventually

pytestmark = pytest.mark.e2e


def _submit(stack: Stack, *args: str, wait: bool = True) -> tuple[int, dict[str, Any]]:
    waiting = ("--wait", "--timeout", "60") if wait else ()
    done = stack.cli("submit", "--user", "U123", *args, *waiting, "--json")
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def _position(stack: Stack, symbol: str) -> Decimal:
    done = stack.cli("positions", "U123", "--json")
    assert done.returncode == 0, done.stderr
    held = {p["symbol"]: Decimal(str(p["quantity"])) for p in json.loads(done.stdout)["positions"]}
    return held.get(symbol, Decimal(0))


def test_a_dollar_amount_buys_the_fractional_shares_alpaca_filled(alpaca_stack: Stack) -> None:
    code, outcome = _submit(alpaca_stack, "buy", "$500", "AAPL")
    assert code == 0, outcome
    assert outcome["status"] == "executed" and outcome["execution_method"] == "alpaca"
    [order] = alpaca_stack.emulator.admin.orders(outcome["trade_id"])
    assert Decimal(order["notional"]) == 500 and order["qty"] is None
    filled = Decimal(str(outcome["filled_quantity"]))
    assert filled == Decimal(order["filled_qty"]) and filled != filled.to_integral_value()
    assert abs(filled * Decimal(order["filled_avg_price"]) - 500) < Decimal("0.01")
    assert _position(alpaca_stack, "AAPL") == filled
    notice = alpaca_stack.outbox.read_text()
    assert "Amount: $500.00 (fractional shares)" in notice and f"Filled: {filled} shares" in notice


def test_a_trailing_stop_follows_the_price_up_and_fills_when_it_falls_back_by_its_trail(
    alpaca_stack: Stack,
) -> None:
    admin = alpaca_stack.emulator.admin
    admin.set_price("AAPL", "200.00", freeze=True)
    code, bought = _submit(alpaca_stack, "buy", "10", "AAPL")
    assert code == 0 and bought["status"] == "executed", bought

    code, trail = _submit(
        alpaca_stack, "sell", "10", "AAPL", "--type", "trailing_stop", "--trail", "5%", "--tif", "gtc"
    )
    assert code == 0 and trail["status"] == "working", trail
    trade_id = str(trail["trade_id"])
    [order] = admin.orders(trade_id)
    assert order["type"] == "trailing_stop" and Decimal(order["trail_percent"]) == 5

    for price in ("210.00", "220.00", "230.00"):  # the high-water mark follows; the stop rises with it
        admin.set_price("AAPL", price, freeze=True)
    eventually(lambda: Decimal(admin.orders(trade_id)[0]["hwm"] or 0) >= 229, timeout=10)
    [order] = admin.orders(trade_id)
    assert Decimal(order["stop_price"]) == Decimal("218.50") and order["status"] == "new"
    admin.set_price("AAPL", "225.00", freeze=True)  # down 2 %: above the stop, nothing happens
    assert alpaca_stack.trade_status(trade_id) == "working"
    admin.set_price("AAPL", "215.00", freeze=True)  # below 230 × 0.95 = 218.50: the stop triggers
    eventually(lambda: alpaca_stack.trade_status(trade_id) == "executed", timeout=30)
    [order] = admin.orders(trade_id)
    assert order["status"] == "filled" and Decimal(order["filled_avg_price"]) < Decimal("218.50")
    eventually(lambda: _position(alpaca_stack, "AAPL") == 0, timeout=30)
    notice = alpaca_stack.outbox.read_text()
    assert "trailing stop (trail 5%), gtc" in notice


def test_after_hours_an_extended_hours_limit_trades_and_a_market_order_is_refused(
    alpaca_stack: Stack,
) -> None:
    admin = alpaca_stack.emulator.admin
    admin.set_price("MSFT", "400.00", freeze=True)
    admin.set_session("post")

    code, refused = _submit(alpaca_stack, "buy", "2", "MSFT")
    assert code == 1 and refused["status"] == "rejected", refused
    [reason] = refused["rejection_reasons"]
    assert reason["code"] == "EXTENDED_HOURS_ONLY" and "after-hours" in reason["message"]
    assert admin.orders(refused["trade_id"]) == []  # nothing reached Alpaca

    args = ("buy", "2", "MSFT", "--type", "limit", "--limit-price", "401", "--extended-hours")
    code, outcome = _submit(alpaca_stack, *args)
    assert code == 0 and outcome["status"] == "executed", outcome
    [order] = admin.orders(outcome["trade_id"])
    assert order["extended_hours"] is True and order["status"] == "filled"
    assert _position(alpaca_stack, "MSFT") == 2
    assert "limit (limit $401), day, extended hours" in alpaca_stack.outbox.read_text()

    done = alpaca_stack.cli("submit", "--user", "U123", "buy", "2", "MSFT", "--extended-hours", "--json")
    assert (
        done.returncode == 2
        and "invalid extended_hours: Extended hours take limit orders only" in done.stderr
    )


async def test_from_slack_a_dollar_amount_trades_and_extended_hours_on_a_market_order_is_refused_inline(
    slack_stack: SlackStack,
) -> None:
    driver = slack_stack.driver
    command = await driver.slash_command("buy $500 AAPL")
    assert command.status == 200 and command.elapsed_s < 3
    view = eventually(lambda: driver.opened_view(command.trigger_id), timeout=10)
    # The trader ticks Extended hours on the market order: refused under that box, nothing submitted.
    refused = await driver.submit_view(view, {"extended_hours": ["on"]})
    assert refused.body["response_action"] == "errors"
    assert "limit orders only" in refused.body["errors"]["extended_hours"]
    answer = await driver.submit_view(view, {"extended_hours": []})
    assert answer.body["response_action"] == "update"
    trade_id = str(json.loads(view["private_metadata"])["trade_id"])
    [dm] = eventually(lambda: driver.messages_to("U123"), timeout=60)
    text = json.dumps(dm.get("blocks"), ensure_ascii=False) + str(dm.get("text"))
    assert "Trade Executed Successfully" in text and "$500.00 (fractional shares)" in text
    [order] = slack_stack.stack.emulator.admin.orders(trade_id)
    assert Decimal(order["notional"]) == 500 and order["status"] == "filled"


def _trade(stack: Stack, trade_id: str) -> dict[str, Any]:
    done = stack.cli("trade", "show", trade_id, "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout)["trade"])


def test_a_bracket_buy_fills_its_entry_then_its_take_profit_and_the_stop_loss_is_canceled(
    alpaca_stack: Stack,
) -> None:
    admin = alpaca_stack.emulator.admin
    admin.set_price("KO", "62.00", freeze=True)  # a symbol no other test trades: its quote is fresh
    args = ("buy", "10", "KO", "--take-profit", "65", "--stop-loss", "59", "--tif", "gtc")
    code, entry = _submit(alpaca_stack, *args)
    assert code == 0 and entry["status"] == "executed" and entry["order_class"] == "bracket", entry
    [order] = admin.orders(entry["trade_id"])
    assert order["order_class"] == "bracket"
    legs = {leg["leg"]: leg for leg in entry["legs"]}
    assert set(legs) == {"take_profit", "stop_loss"}
    take_profit, stop_loss = (legs[name]["client_order_id"] for name in ("take_profit", "stop_loss"))
    # Each exit is a trade of its own, recorded and followed: working at Alpaca, naming its parent.
    eventually(lambda: _trade(alpaca_stack, take_profit)["status"] == "working", timeout=30)
    eventually(lambda: _trade(alpaca_stack, stop_loss)["status"] == "working", timeout=30)
    assert _trade(alpaca_stack, take_profit)["parent_trade_id"] == entry["trade_id"]
    assert _position(alpaca_stack, "KO") == 10

    admin.set_price("KO", "65.50", freeze=True)  # through the take-profit: it sells, the stop-loss goes
    eventually(lambda: _trade(alpaca_stack, take_profit)["status"] == "executed", timeout=30)
    eventually(lambda: _trade(alpaca_stack, stop_loss)["status"] == "failed", timeout=30)
    assert _trade(alpaca_stack, stop_loss)["error_code"] == "EXIT_CANCELED"
    assert Decimal(str(_trade(alpaca_stack, take_profit)["execution_price"])) >= 65
    eventually(lambda: _position(alpaca_stack, "KO") == 0, timeout=30)  # flat, each fill applied once
    orders = {o["client_order_id"]: o["status"] for o in admin.orders()}
    assert (orders[take_profit], orders[stop_loss]) == ("filled", "canceled")
    assert len([o for o in admin.orders() if o["side"] == "sell"]) == 2  # the two legs: nothing placed again
    outbox = alpaca_stack.outbox.read_text()
    assert "take-profit exit of trade" in outbox and "Exit Canceled" in outbox


def test_an_exit_on_the_wrong_side_is_refused_naming_it_at_the_cli_or_by_validation(
    alpaca_stack: Stack,
) -> None:
    """Against a limit entry the CLI refuses it (exit 2, the field named); against the market price,
    validation does, with the seed's failure notice."""
    limit_entry = ("--type", "limit", "--limit-price", "95", "--take-profit", "94", "--stop-loss", "90")
    done = alpaca_stack.cli("submit", "--user", "U123", "buy", "10", "DIS", *limit_entry, "--json")
    assert (
        done.returncode == 2 and "invalid take_profit: The take-profit must be above the limit" in done.stderr
    )
    alpaca_stack.emulator.admin.set_price("PEP", "170.00", freeze=True)  # quoted by no other test: fresh
    code, refused = _submit(alpaca_stack, "buy", "10", "PEP", "--take-profit", "165", "--stop-loss", "160")
    assert code == 1 and refused["status"] == "rejected", refused
    [reason] = refused["rejection_reasons"]
    assert (reason["code"], reason["field"]) == ("EXIT_PRICE_WRONG_SIDE", "take_profit")
    assert alpaca_stack.emulator.admin.orders(refused["trade_id"]) == []


def test_an_oco_on_a_position_held_sells_at_its_stop_loss_and_its_take_profit_is_canceled(
    alpaca_stack: Stack,
) -> None:
    admin = alpaca_stack.emulator.admin
    admin.set_price("NFLX", "650.00", freeze=True)  # traded by no other test: a fresh quote
    code, bought = _submit(alpaca_stack, "buy", "10", "NFLX")
    assert code == 0 and bought["status"] == "executed", bought
    oco = ("sell", "10", "NFLX", "--type", "limit", "--limit-price", "700", "--class", "oco")
    oco += ("--stop-loss", "600")
    code, exits = _submit(alpaca_stack, *oco, "--tif", "gtc")
    assert code == 0 and exits["status"] == "working" and exits["order_class"] == "oco", exits
    [stop_leg] = exits["legs"]
    assert stop_leg["leg"] == "stop_loss" and Decimal(str(stop_leg["stop_price"])) == 600
    stop_loss = stop_leg["client_order_id"]
    eventually(lambda: _trade(alpaca_stack, stop_loss)["status"] == "working", timeout=30)

    admin.set_price("NFLX", "599.00", freeze=True)  # through the stop: the stop-loss sells, the limit goes
    eventually(lambda: _trade(alpaca_stack, stop_loss)["status"] == "executed", timeout=30)
    eventually(lambda: _trade(alpaca_stack, exits["trade_id"])["status"] == "failed", timeout=30)
    assert _trade(alpaca_stack, exits["trade_id"])["error_code"] == "EXIT_CANCELED"
    eventually(lambda: _position(alpaca_stack, "NFLX") == 0, timeout=30)
    sells = [o for o in admin.orders() if o["side"] == "sell"]
    assert sorted(o["status"] for o in sells) == ["canceled", "filled"]


def test_without_the_stream_the_sweeper_settles_a_brackets_exits_once_each(
    alpaca_sweeping_stack: Stack,
) -> None:
    """No trade_updates stream: the take-profit fills and the stop-loss is canceled unseen; the sweeper's
    one read of the open orders finds both ended and settles each once (the held stop-loss cost no look
    while the take-profit rested)."""
    stack, admin = alpaca_sweeping_stack, alpaca_sweeping_stack.emulator.admin
    admin.set_price("AMD", "160.00", freeze=True)  # traded by no other test: a fresh quote
    code, entry = _submit(
        stack, "buy", "10", "AMD", "--take-profit", "168", "--stop-loss", "152", "--tif", "gtc"
    )
    assert code == 0 and entry["status"] == "executed", entry
    legs = {leg["leg"]: leg["client_order_id"] for leg in entry["legs"]}
    for leg in legs.values():
        eventually(lambda leg=leg: _trade(stack, leg)["status"] == "working", timeout=30)
    admin.clear_requests()
    admin.set_price("AMD", "169.00", freeze=True)
    eventually(lambda: _trade(stack, legs["take_profit"])["status"] == "executed", timeout=30)
    eventually(lambda: _trade(stack, legs["stop_loss"])["status"] == "failed", timeout=30)
    eventually(lambda: _position(stack, "AMD") == 0, timeout=30)
    audit = _trade_audit(stack, legs["take_profit"])
    assert audit.count("trade_executed") == 1 and audit.count("position_updated") == 1
    assert admin.request_count("POST", "/v2/orders") == 0  # nothing placed: exits are only looked up


def _trade_audit(stack: Stack, trade_id: str) -> list[str]:
    done = stack.cli("trade", "show", trade_id, "--json")
    assert done.returncode == 0, done.stderr
    return [event["event_type"] for event in json.loads(done.stdout)["audit"]]


def test_canceling_a_filled_bracket_cancels_its_open_exits_and_keeps_the_position(
    alpaca_stack: Stack,
) -> None:
    admin = alpaca_stack.emulator.admin
    admin.set_price("DIS", "95.00", freeze=True)
    code, entry = _submit(
        alpaca_stack,
        "buy",
        "4",
        "DIS",
        "--type",
        "limit",
        "--limit-price",
        "96",
        "--take-profit",
        "105",
        "--stop-loss",
        "90",
        "--tif",
        "gtc",
    )
    assert code == 0 and entry["status"] == "executed", entry
    legs = [leg["client_order_id"] for leg in entry["legs"]]
    for leg in legs:
        eventually(lambda leg=leg: _trade(alpaca_stack, leg)["status"] == "working", timeout=30)

    canceled = alpaca_stack.cli("trade", "cancel", entry["trade_id"], "--wait", "30", "--json")
    assert canceled.returncode == 0, canceled.stdout + canceled.stderr
    for leg in legs:
        eventually(lambda leg=leg: _trade(alpaca_stack, leg)["status"] == "failed", timeout=30)
    assert {o["status"] for o in admin.orders() if o["client_order_id"] in legs} == {"canceled"}
    assert _position(alpaca_stack, "DIS") == 4  # the entry's shares stay: only the exits went

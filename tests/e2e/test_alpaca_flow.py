"""Trades on the Alpaca emulator through the whole chain: fills, the ambiguous drop, resting orders."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.e2e.stack import Stack
from tests.waiting import eventually

pytestmark = pytest.mark.e2e


def _submit(stack: Stack, *args: str) -> tuple[int, dict[str, object]]:
    done = stack.cli("submit", "--user", "U123", *args, "--wait", "--timeout", "60", "--json")
    return done.returncode, json.loads(done.stdout)


def _status(stack: Stack, trade_id: str) -> str:
    """What `trade show` says the trade's status is, read from the store (a look costs one request)."""
    return stack.trade_status(trade_id)


def _outbox(stack: Stack) -> str:
    return stack.outbox.read_text() if stack.outbox.exists() else ""


def _resting_limit(stack: Stack, symbol: str, quantity: str) -> tuple[str, Decimal]:
    """A gtc buy limit 5 % under the market, submitted and seen `working`; returns (trade id, limit)."""
    mid = Decimal(str(stack.emulator.admin.prices(symbol)[symbol]["mid"]))
    limit = (mid * Decimal("0.95")).quantize(Decimal("0.01"))
    done = stack.cli(
        "submit",
        "--user",
        "U123",
        "buy",
        quantity,
        symbol,
        "--type",
        "limit",
        "--limit-price",
        str(limit),
        "--tif",
        "gtc",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    trade_id = str(json.loads(done.stdout)["trade_id"])
    eventually(lambda: _status(stack, trade_id) == "working", timeout=30)
    return trade_id, limit


def _purge_rechecks(stack: Stack) -> None:
    """Drop the execution queue's pending rechecks (workers stopped, so none is held in memory)."""
    for queue in (stack.queue("execution"), f"{stack.queue('execution')}.DQ"):
        stack.queues.channel.queue_purge(queue)


def test_a_trade_executes_on_alpaca_with_its_order_id_and_slippage(alpaca_stack: Stack) -> None:
    code, outcome = _submit(alpaca_stack, "buy", "10", "AAPL")
    assert code == 0, outcome
    assert outcome["execution_method"] == "alpaca"
    [order] = alpaca_stack.emulator.admin.orders(outcome["trade_id"])
    assert outcome["alpaca_order_id"] == order["id"]
    assert Decimal(str(outcome["execution_price"])) == Decimal(order["filled_avg_price"])
    assert "slippage_bps" in outcome and "reference_price" in outcome
    notice = alpaca_stack.outbox.read_text()
    assert "🧪 Alpaca Paper Trading" in notice and f"Alpaca Order ID: {order['id']}" in notice


def test_any_asset_alpaca_trades_executes_and_one_it_does_not_list_is_refused(alpaca_stack: Stack) -> None:
    """No allow-list by default: Alpaca's asset list decides (the old 31-ticker list refused Ford, F)."""
    code, outcome = _submit(alpaca_stack, "buy", "3", "F")
    assert code == 0, outcome
    assert outcome["execution_method"] == "alpaca" and outcome["status"] == "executed"
    assert len(alpaca_stack.emulator.admin.orders(outcome["trade_id"])) == 1

    code, outcome = _submit(alpaca_stack, "buy", "3", "APPL")  # a typo of AAPL: Alpaca lists no such asset
    assert code == 1
    assert outcome["error_code"] == "SYMBOL_UNKNOWN"
    assert alpaca_stack.emulator.admin.orders(outcome["trade_id"]) == []
    assert "Check the ticker" in alpaca_stack.outbox.read_text()


def test_the_ambiguous_drop_executes_exactly_once_and_nothing_is_simulated(alpaca_stack: Stack) -> None:
    alpaca_stack.emulator.admin.add_fault("drop_connection", method="POST", path="/v2/orders", phase="after")
    code, outcome = _submit(alpaca_stack, "buy", "5", "MSFT")
    assert code == 0, outcome
    assert outcome["execution_method"] == "alpaca"
    assert len(alpaca_stack.emulator.admin.orders(outcome["trade_id"])) == 1
    doc = json.loads(alpaca_stack.cli("trade", "show", str(outcome["trade_id"]), "--json").stdout)
    assert [a["event_type"] for a in doc["audit"]].count("trade_executed") == 1


def test_three_partial_fills_move_the_position_by_their_sum(alpaca_stack: Stack) -> None:
    alpaca_stack.emulator.admin.configure(partial_fills=3)
    code, outcome = _submit(alpaca_stack, "buy", "9", "NVDA")
    assert code == 0, outcome
    [order] = alpaca_stack.emulator.admin.orders(outcome["trade_id"])
    executions = alpaca_stack.emulator.admin.executions(order["id"])
    assert len(executions) == 3
    assert len(outcome["fills"]) == 3  # each fill recorded
    total = sum(Decimal(str(e["qty"])) for e in executions)
    vwap = sum(Decimal(str(e["qty"])) * Decimal(str(e["price"])) for e in executions) / total
    assert Decimal(str(outcome["execution_price"])) == vwap.quantize(Decimal("0.0001"))
    positions = json.loads(alpaca_stack.cli("positions", "U123", "--json").stdout)["positions"]
    assert [(p["symbol"], Decimal(p["quantity"])) for p in positions] == [("NVDA", total)]


def test_a_market_order_while_closed_fails_with_market_closed_and_next_steps(alpaca_stack: Stack) -> None:
    alpaca_stack.emulator.admin.close_market()
    code, outcome = _submit(alpaca_stack, "buy", "1", "AAPL")
    assert code == 1
    assert outcome["error_code"] == "MARKET_CLOSED"
    assert alpaca_stack.emulator.admin.orders() == []
    assert "Check market hours and try again" in alpaca_stack.outbox.read_text()


def test_a_resting_limit_order_that_fills_later_completes_the_trade(alpaca_stack: Stack) -> None:
    admin = alpaca_stack.emulator.admin
    trade_id, limit = _resting_limit(alpaca_stack, "AAPL", "4")
    # The trader is told "working" just after the trade is recorded so: wait for the notice, then look.
    assert eventually(lambda: "Order Accepted, Working" in _outbox(alpaca_stack), timeout=30)
    admin.set_price("AAPL", limit - Decimal(1))
    eventually(lambda: _status(alpaca_stack, trade_id) == "executed", timeout=60)
    doc = json.loads(alpaca_stack.cli("trade", "show", trade_id, "--json").stdout)
    events = [a["event_type"] for a in doc["audit"]]
    assert events[-3:] == ["trade_executed", "position_updated", "trade_notified"]
    assert "order_working" in events and "working_notified" in events
    assert len(admin.orders(trade_id)) == 1
    positions = json.loads(alpaca_stack.cli("positions", "U123", "--json").stdout)["positions"]
    assert [(p["symbol"], p["quantity"]) for p in positions] == [("AAPL", "4")]


def test_a_starting_worker_settles_an_order_that_filled_while_it_was_down(alpaca_stack: Stack) -> None:
    from tests.e2e.stack import restart_workers, stop_workers

    admin = alpaca_stack.emulator.admin
    trade_id, limit = _resting_limit(alpaca_stack, "MSFT", "2")
    stop_workers(alpaca_stack)
    admin.set_price("MSFT", limit - Decimal(1))  # it fills at Alpaca while no worker listens
    eventually(lambda: admin.orders(trade_id)[0]["status"] == "filled", timeout=10)
    _purge_rechecks(alpaca_stack)  # no recheck is left: only the start-up pass can settle it
    restart_workers(alpaca_stack)
    eventually(lambda: _status(alpaca_stack, trade_id) == "executed", timeout=60)
    assert len(admin.orders(trade_id)) == 1


def test_alpaca_down_before_the_submit_executes_by_simulation_labelled_so(alpaca_down_stack: Stack) -> None:
    code, outcome = _submit(alpaca_down_stack, "buy", "3", "AAPL")
    assert code == 0, outcome
    assert outcome["execution_method"] == "simulation" and "alpaca_order_id" not in outcome
    notice = alpaca_down_stack.outbox.read_text()
    assert "• Method: 🎲 Simulation" in notice and "Alpaca Order ID" not in notice


def test_tradeflow_reconcile_queues_every_open_trade_for_settling(alpaca_polling_stack: Stack) -> None:
    from tests.e2e.stack import restart_workers, stop_workers

    stack = alpaca_polling_stack
    admin = stack.emulator.admin
    trade_id, limit = _resting_limit(stack, "AMZN", "1")
    stop_workers(stack)  # and with them the rechecks they held
    _purge_rechecks(stack)
    admin.set_price("AMZN", limit - Decimal(1))
    reconciled = json.loads(stack.cli("reconcile", "--all", "--json").stdout)  # seconds old: --all
    assert trade_id in reconciled["reconciling"]
    assert stack.queues.count(stack.queue("execution")) == len(reconciled["reconciling"])
    restart_workers(stack)
    eventually(lambda: _status(stack, trade_id) == "executed", timeout=60)
    assert len(admin.orders(trade_id)) == 1


def test_submit_wait_answers_working_for_an_order_that_rests(alpaca_stack: Stack) -> None:
    mid = Decimal(str(alpaca_stack.emulator.admin.prices("MSFT")["MSFT"]["mid"]))
    limit = (mid * Decimal("0.9")).quantize(Decimal("0.01"))
    args = ("buy", "2", "MSFT", "--type", "limit", "--limit-price", str(limit), "--tif", "gtc")
    # Answered once the order rests and its trader is told so, not at the end of --timeout.
    done = alpaca_stack.cli("submit", "--user", "U123", *args, "--wait", "--timeout", "600", "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "working" and outcome["notified"] is False  # the outcome is yet to come
    [order] = alpaca_stack.emulator.admin.orders(outcome["trade_id"])
    assert outcome["alpaca_order_id"] == order["id"] and order["status"] in ("new", "accepted")

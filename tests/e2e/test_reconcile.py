"""The sweeper and `tradeflow reconcile` on the real stack: stuck trades completed through the chain, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from messages.events import TradeRecorded
from messages.records import TradeRecord, pending_record
from messages.trade import TradeRequest
from telemetry.otlp_sink import read_spans
from tests.e2e.stack import Stack
from tests.fixtures_alpaca import trading_client
from tests.unit.fakes import trade
from tests.waiting import eventually
from workers.handlers.audit import audit_event, expires_at
from workers.store.port import TradeStore

pytestmark = pytest.mark.e2e


def _an_hour_ago() -> datetime:
    return datetime.now(UTC) - timedelta(hours=1)


def _record(
    stack: Stack,
    request: TradeRequest,
    status: str = "pending",
    order: str | None = None,
    *,
    attempted: bool = False,
) -> None:
    """Leave a trade as the chain would have when it was submitted, had it stopped there (nothing queued);
    `attempted`: an execution attempt took its order lease (orders leave only under it) and died."""
    at = request.submitted_at
    record = pending_record(request, recorded_at=at, expires_at=expires_at(at, 2557))
    recorded = audit_event("trade_recorded", request, at=at, retention_days=2557)

    async def put(store: TradeStore) -> None:
        assert await store.put_new_trade(record, [recorded]) is None
        if attempted:
            at_ms = int(at.timestamp() * 1000)
            await store.claim_lease_over(f"order#{request.trade_id}", now_ms=at_ms, lease_ms=90_000)
        if status == "working":
            working: TradeRecord = msgspec.structs.replace(
                record, status="working", execution_method="alpaca", alpaca_order_id=order
            )
            audit = audit_event("order_working", request, at=at, retention_days=2557)
            assert await store.record_progress(working, audit) is None

    stack.store_call(put)


def _trade_show(stack: Stack, trade_id: object) -> dict[str, Any]:
    shown = stack.cli("trade", "show", str(trade_id), "--json")
    return json.loads(shown.stdout) if shown.returncode == 0 else {}


def _status(stack: Stack, trade_id: object) -> str:
    return str(_trade_show(stack, trade_id).get("trade", {}).get("status", ""))


def _notices(stack: Stack, trade_id: object) -> int:
    text = stack.outbox.read_text() if stack.outbox.exists() else ""
    return text.count(f"· trade {trade_id} · ")  # each notice's header: who · trade · which notice


def _wait_for_notices(stack: Stack, trade_id: object, count: int) -> None:
    eventually(lambda: _notices(stack, trade_id) == count, timeout=30)


def test_the_sweeper_completes_stuck_trades_through_the_chain_once_each(alpaca_sweeping_stack: Stack) -> None:
    stack = alpaca_sweeping_stack
    admin, alpaca = stack.emulator.admin, trading_client(stack.emulator)
    an_hour_ago = _an_hour_ago()

    # Recorded, and its TradeRecorded lost: no order anywhere.
    never_placed = trade(symbol="AAPL", quantity=Decimal(2), submitted_at=an_hour_ago)
    _record(stack, never_placed)

    # The worker died mid-order: the order reached Alpaca and filled; the record still says pending.
    died_mid_order = trade(symbol="MSFT", quantity=Decimal(3), submitted_at=an_hour_ago)
    market = MarketOrderRequest(
        symbol="MSFT",
        qty=3,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        client_order_id=died_mid_order.key,
    )
    placed = alpaca.submit_order(market)
    eventually(lambda: alpaca.get_order_by_id(placed.id).status == OrderStatus.FILLED, timeout=10)  # type: ignore[union-attr]
    _record(stack, died_mid_order, attempted=True)

    # A resting limit order, working, that fills while nothing watches (no stream, its rechecks gone).
    limit = (Decimal(str(admin.prices("NVDA")["NVDA"]["mid"])) * Decimal("0.95")).quantize(Decimal("0.01"))
    unwatched = trade(
        symbol="NVDA",
        quantity=Decimal(4),
        order_type="limit",
        limit_price=limit,
        time_in_force="gtc",
        submitted_at=an_hour_ago,
    )
    resting = LimitOrderRequest(
        symbol="NVDA",
        qty=4,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.GTC,
        limit_price=float(limit),
        client_order_id=unwatched.key,
    )
    order = alpaca.submit_order(resting)
    _record(stack, unwatched, "working", order=str(order.id))  # type: ignore[union-attr]
    admin.set_price("NVDA", limit - Decimal(1))

    # Waits look at the store (one request a look); what trade show says is asserted below.
    eventually(lambda: stack.trade_status(never_placed.trade_id) == "failed", timeout=60)
    eventually(lambda: stack.trade_status(died_mid_order.trade_id) == "executed", timeout=60)
    eventually(lambda: stack.trade_status(unwatched.trade_id) == "executed", timeout=60)
    assert _status(stack, died_mid_order.trade_id) == "executed"
    assert _status(stack, unwatched.trade_id) == "executed"

    assert _trade_show(stack, never_placed.trade_id)["trade"]["error_code"] == "NOT_EXECUTED_IN_TIME"
    assert admin.orders(never_placed.key) == []  # nothing was placed late
    assert len(admin.orders(died_mid_order.key)) == 1  # its one order, settled, never placed again
    assert len(admin.orders(unwatched.key)) == 1
    positions = json.loads(stack.cli("positions", "U123", "--json").stdout)["positions"]
    assert sorted((p["symbol"], p["quantity"]) for p in positions) == [("MSFT", "3"), ("NVDA", "4")]
    for t in (never_placed, died_mid_order, unwatched):
        _wait_for_notices(stack, t.trade_id, 1)
        events = [a["event_type"] for a in _trade_show(stack, t.trade_id)["audit"]]
        assert events.count("trade_notified") == 1 and "working_notified" not in events
    assert "Error Code: NOT_EXECUTED_IN_TIME" in stack.outbox.read_text()

    # The lost TradeRecorded turns up (a dead letter replayed): the trade is decided, nothing executes.
    _redeliver(stack, TradeRecorded(trade=never_placed, recorded_at=an_hour_ago))
    eventually(lambda: _redelivery_done(stack, never_placed.trade_id), timeout=30)
    assert _status(stack, never_placed.trade_id) == "failed"
    assert admin.orders(never_placed.key) == []
    assert _notices(stack, never_placed.trade_id) == 1


def _redeliver(stack: Stack, message: TradeRecorded) -> None:
    from workers.chain.publisher import Publisher

    publisher = Publisher(stack.settings)
    try:
        publisher.send(message)
    finally:
        publisher.close()


def _redelivery_done(stack: Stack, trade_id: object) -> bool:
    """The redelivered TradeRecorded was processed, and so was the outcome it published (spans end last)."""
    spans = [
        s for s in read_spans(stack.spans_path) if s.get("attributes", {}).get("trade.id") == str(trade_id)
    ]
    executions = {
        s["span_id"]
        for s in spans
        if s["name"] == f"{stack.queue('execution')} process"
        and s["attributes"].get("messaging.message.type") == "TradeRecorded"
    }
    notified = f"{stack.queue('notifications')} process"
    return any(s["name"] == notified and s.get("parent_span_id") in executions for s in spans)


def test_tradeflow_reconcile_sends_the_stuck_trades_and_says_why(idle_stack: Stack) -> None:
    stack = idle_stack  # no worker: what is sent stays in the execution queue
    stuck = trade(submitted_at=_an_hour_ago())
    _record(stack, stuck, "working", order="ord-1")
    young = trade(submitted_at=datetime.now(UTC))
    _record(stack, young)

    done = stack.cli("reconcile", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["reconciling"] == [stuck.key] and doc["older_than_s"] == 300
    [line] = doc["trades"]
    assert line["status"] == "working" and line["reason"].startswith("tradeflow reconcile: working for 1h")
    [(_, body)] = stack.queues.peek_all(stack.queue("execution"))
    payload = json.loads(body)["args"][0]
    assert payload["type"] == "ReconcileTrade" and payload["recheck"] is False
    assert payload["trade"]["trade_id"] == stuck.key

    every = stack.cli("reconcile", "--all")
    assert every.returncode == 0, every.stderr
    assert stuck.key in every.stdout and young.key in every.stdout
    assert "left to its own TradeRecorded" in every.stdout  # a young pending trade is not the sweeper's
    assert stack.queues.count(stack.queue("execution")) == 3

    none = stack.cli("reconcile", "--older-than", "7200")
    assert none.returncode == 0 and none.stdout.startswith("No open trade recorded 2h00m ago or more")

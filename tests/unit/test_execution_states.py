"""The execution stage with a stock broker whose orders can rest or go unconfirmed.

Each test's clock starts at the trades' submission (NOW): a trade runs as soon as it is submitted.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from messages.events import (
    ReconcileTrade,
    TradeExecuted,
    TradeFailed,
    TradeRecorded,
    TradeWorking,
)
from messages.trade import Execution, ExecutionError, Fill, OrderPending
from tests.unit.fakes import NOW, ScriptedBroker, make_deps, submit
from workers.handlers.deps import Deps
from workers.handlers.execution import execute_trade
from workers.handlers.persistence import record_trade
from workers.handlers.validation import validate_trade


def _fill(quantity: str, price: str) -> Fill:
    return Fill(quantity=Decimal(quantity), price=Decimal(price), timestamp=NOW)


def _execution(fills: tuple[Fill, ...]) -> Execution:
    quantity = sum((f.quantity for f in fills), Decimal(0))
    vwap = sum((f.quantity * f.price for f in fills), Decimal(0)) / quantity
    return Execution(
        execution_id=uuid.uuid4(),
        execution_method="alpaca",
        execution_price=vwap.quantize(Decimal("0.0001")),
        filled_quantity=quantity,
        execution_timestamp=NOW,
        execution_time_ms=Decimal("120.5"),
        reference_price=Decimal(100),
        slippage_bps=Decimal("1.5"),
        market_impact_bps=Decimal("0.3"),
        alpaca_order_id="ord-1",
        fills=fills,
    )


async def _recorded(deps: Deps, **trade: object) -> TradeRecorded:
    validated = await validate_trade(submit(**{"submitted_at": NOW, **trade}), deps)
    recorded = await record_trade(validated, deps)  # type: ignore[arg-type]
    assert isinstance(recorded, TradeRecorded)
    return recorded


WORKING = OrderPending(state="working", execution_method="alpaca", alpaca_order_id="ord-1", reason="resting")
UNKNOWN = OrderPending(state="unknown", execution_method="alpaca", reason="request may have reached Alpaca")


async def test_a_resting_order_is_working_then_completes_when_its_end_is_reported_without_rechecks() -> None:
    fills = (_fill("3", "99.50"), _fill("3", "99.60"), _fill("4", "99.70"))
    broker = ScriptedBroker(WORKING, WORKING, _execution(fills))
    deps = make_deps(broker=broker, clock=lambda: NOW)
    recorded = await _recorded(deps, order_type="limit", limit_price=Decimal("99.80"))

    first = await execute_trade(recorded, deps)
    assert isinstance(first, tuple)
    [working] = first  # no recheck chain: a resting order is not polled
    assert isinstance(working, TradeWorking) and working.alpaca_order_id == "ord-1"
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "working" and record.alpaca_order_id == "ord-1"

    # The sweeper's look (or a worker start's) while it still rests: nothing new, nothing scheduled.
    assert await execute_trade(ReconcileTrade(trade=recorded.trade, reason="worker start"), deps) is None

    # The stream reports the order's end: one look settles the trade.
    done = await execute_trade(ReconcileTrade(trade=recorded.trade, reason="stream: order done"), deps)
    assert isinstance(done, TradeExecuted)
    assert done.execution.filled_quantity == Decimal(10)
    assert done.execution.execution_price == Decimal("99.6100")  # the volume-weighted average
    assert broker.calls == ["execute", "resume:ord-1", "resume:ord-1"]  # placed once, then only looked up
    events = [a.event_type for a in await deps.store.list_audit(recorded.trade.trade_id)]
    assert events == ["trade_submitted", "trade_recorded", "order_working", "trade_executed"]


async def test_an_unconfirmed_order_is_looked_up_never_placed_again() -> None:
    fills = (_fill("10", "100.02"),)
    broker = ScriptedBroker(UNKNOWN, _execution(fills))
    deps = make_deps(broker=broker, clock=lambda: NOW)
    recorded = await _recorded(deps)
    first = await execute_trade(recorded, deps)
    assert isinstance(first, tuple) and isinstance(first[0], TradeWorking) and first[0].state == "unknown"
    # the same TradeRecorded redelivered settles by lookup too
    done = await execute_trade(recorded, deps)
    assert isinstance(done, TradeExecuted)
    assert broker.calls == ["execute", "resume:None"]


async def test_a_redelivery_finding_its_trade_open_tells_the_trader_again() -> None:
    """The campaign: execution was killed -9 after it recorded a trade `unknown` and before its TradeWorking
    left; every redelivery found the trade unknown still, rechecked, and told nobody: a trader never told.
    A redelivered TradeRecorded now sends the notice again (the notifier tells the trader once)."""
    broker = ScriptedBroker(UNKNOWN, UNKNOWN, WORKING, WORKING, WORKING)
    deps = make_deps(broker=broker, clock=lambda: NOW)
    recorded = await _recorded(deps)
    first = await execute_trade(recorded, deps)
    assert isinstance(first, tuple) and isinstance(first[0], TradeWorking)  # the notice the crash lost

    again = await execute_trade(recorded, deps)
    assert isinstance(again, tuple)
    [notice] = again  # its first recheck is the first delivery's (one chain a trade: rechecks.py)
    assert isinstance(notice, TradeWorking) and notice.state == "unknown"

    # a resting order's redelivery too: its trader hears it works
    resting = await execute_trade(recorded, deps)
    assert isinstance(resting, tuple) and isinstance(resting[0], TradeWorking)
    assert resting[0].state == "working"
    [still] = await execute_trade(recorded, deps)  # type: ignore[misc]
    assert isinstance(still, TradeWorking) and still.alpaca_order_id == "ord-1"
    # the sweeper's look at a resting order, though, says nothing new
    assert await execute_trade(ReconcileTrade(trade=recorded.trade, reason="sweeper"), deps) is None


async def test_a_reconcile_for_a_pending_trade_leaves_it_to_its_own_delivery() -> None:
    broker = ScriptedBroker()
    deps = make_deps(broker=broker, clock=lambda: NOW)
    recorded = await _recorded(deps)
    assert await execute_trade(ReconcileTrade(trade=recorded.trade), deps) is None
    assert broker.calls == []


async def test_an_order_still_unknown_long_after_is_failed_as_never_arrived() -> None:
    broker = ScriptedBroker(UNKNOWN, UNKNOWN)
    clock = [NOW]
    deps = make_deps(broker=broker, clock=lambda: clock[0])
    recorded = await _recorded(deps)
    await execute_trade(recorded, deps)
    clock[0] += timedelta(minutes=16)
    failed = await execute_trade(ReconcileTrade(trade=recorded.trade, attempt=5), deps)
    assert isinstance(failed, TradeFailed) and failed.error.code == "BROKER_UNAVAILABLE"


async def test_a_refusal_fails_the_trade_with_its_code_and_next_steps() -> None:
    refusal = ExecutionError(
        code="INSUFFICIENT_BUYING_POWER",
        message="insufficient buying power",
        next_steps=("Reduce the quantity",),
        execution_method="alpaca",
    )
    deps = make_deps(broker=ScriptedBroker(refusal), clock=lambda: NOW)
    failed = await execute_trade(await _recorded(deps), deps)
    assert isinstance(failed, TradeFailed)
    assert failed.error.code == "INSUFFICIENT_BUYING_POWER" and failed.error.next_steps == (
        "Reduce the quantity",
    )


async def test_duplicate_deliveries_of_a_recheck_schedule_the_next_one_once() -> None:
    """At least once: a recheck delivered twice (or a chain started again at a worker's start) must not
    fork the chain, or rechecks multiply with every duplicate until they spend the Alpaca budget."""
    broker = ScriptedBroker(UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN)
    deps = make_deps(broker=broker, clock=lambda: NOW)
    recorded = await _recorded(deps)
    first = await execute_trade(recorded, deps)
    assert isinstance(first, tuple)
    _, recheck = first
    assert isinstance(recheck, ReconcileTrade) and recheck.attempt == 0

    once = await execute_trade(recheck, deps)
    again = await execute_trade(recheck, deps)  # the same recheck, delivered a second time

    assert isinstance(once, ReconcileTrade) and once.attempt == 1
    assert again is None
    restarted = ReconcileTrade(trade=recorded.trade, reason="worker start: trade was unknown")
    assert await execute_trade(restarted, deps) is None  # attempt 1 is already scheduled: one chain
    assert broker.calls == ["execute", "resume:None", "resume:None", "resume:None"]

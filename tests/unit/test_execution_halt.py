"""The kill switch at the execution stage: no order leaves after `halt`, whatever was already queued.

A trade validated before the halt (queued, retrying, replayed) is not placed once the switch is engaged: it
fails TRADING_HALTED and the trader gets the seed's failure notice. An order already at the stock broker
is still settled there (issue 13, defect 11).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from messages.events import ReconcileTrade, TradeExecuted, TradeFailed, TradeRecorded
from messages.records import KillSwitch
from messages.trade import Execution, OrderPending
from tests.unit.fakes import NOW, CountingBroker, ScriptedBroker, make_deps, submit
from workers.handlers.deps import Deps
from workers.handlers.execution import execute_trade
from workers.handlers.persistence import record_trade
from workers.handlers.validation import validate_trade

HALT = KillSwitch(engaged=True, reason="market turmoil", changed_by="U0ADMIN", changed_at=NOW)
RESTING = OrderPending(state="working", execution_method="alpaca", alpaca_order_id="ord-7", reason="resting")
NO_ORDER = OrderPending(state="unknown", execution_method="alpaca", reason="no order found")


def _filled() -> Execution:
    return Execution(
        execution_id=uuid.uuid4(),
        execution_method="alpaca",
        execution_price=Decimal("100.01"),
        filled_quantity=Decimal(10),
        execution_timestamp=NOW,
        execution_time_ms=Decimal(90),
        reference_price=Decimal(100),
        slippage_bps=Decimal(1),
        market_impact_bps=Decimal("0.3"),
        alpaca_order_id="ord-7",
    )


async def _recorded(deps: Deps) -> TradeRecorded:
    submitted = submit(submitted_at=NOW)
    recorded = await record_trade(await validate_trade(submitted, deps), deps)  # type: ignore[arg-type]
    assert isinstance(recorded, TradeRecorded)
    return recorded


async def test_a_trade_validated_before_the_halt_is_not_placed_after_it() -> None:
    deps = make_deps(clock=lambda: NOW)
    recorded = await _recorded(deps)  # validated and recorded while trading was on
    await deps.store.set_kill_switch(HALT)

    failed = await execute_trade(recorded, deps)

    assert isinstance(failed, TradeFailed) and failed.error.code == "TRADING_HALTED"
    assert "market turmoil" in failed.error.message and failed.error.execution_method is None
    broker = deps.broker
    assert isinstance(broker, CountingBroker) and broker.calls == []
    record = await deps.store.get_trade(recorded.trade.trade_id)
    assert record is not None and record.status == "failed" and record.error_code == "TRADING_HALTED"
    audit = await deps.store.list_audit(recorded.trade.trade_id)
    assert [a.details["error_code"] for a in audit if a.event_type == "trade_failed"] == ["TRADING_HALTED"]


async def test_its_redelivery_after_resume_publishes_the_same_failure_and_places_nothing() -> None:
    deps = make_deps(clock=lambda: NOW)
    recorded = await _recorded(deps)
    await deps.store.set_kill_switch(HALT)
    first = await execute_trade(recorded, deps)
    await deps.store.set_kill_switch(KillSwitch(engaged=False))

    again = await execute_trade(recorded, deps)

    assert again == first
    broker = deps.broker
    assert isinstance(broker, CountingBroker) and broker.calls == []


async def test_a_later_attempt_under_the_halt_settles_the_order_an_earlier_one_placed() -> None:
    broker = ScriptedBroker(_filled())
    deps = make_deps(broker=broker, clock=lambda: NOW)
    recorded = await _recorded(deps)
    await deps.store.claim_lease_over(f"order#{recorded.trade.trade_id}", now_ms=0, lease_ms=1)  # it died
    await deps.store.set_kill_switch(HALT)

    executed = await execute_trade(recorded, deps)

    assert isinstance(executed, TradeExecuted) and executed.execution.alpaca_order_id == "ord-7"
    assert broker.calls == ["resume:None"]  # looked up, never placed


async def test_a_later_attempt_under_the_halt_with_no_order_fails_trading_halted() -> None:
    broker = ScriptedBroker(NO_ORDER)
    deps = make_deps(broker=broker, clock=lambda: NOW)
    recorded = await _recorded(deps)
    await deps.store.claim_lease_over(f"order#{recorded.trade.trade_id}", now_ms=0, lease_ms=1)
    await deps.store.set_kill_switch(HALT)

    failed = await execute_trade(recorded, deps)

    assert isinstance(failed, TradeFailed) and failed.error.code == "TRADING_HALTED"
    assert broker.calls == ["resume:None"]


async def test_an_order_resting_before_the_halt_is_still_settled() -> None:
    broker = ScriptedBroker(RESTING, _filled())
    clock = [NOW]
    deps = make_deps(broker=broker, clock=lambda: clock[0])
    recorded = await _recorded(deps)
    working = await execute_trade(recorded, deps)
    assert isinstance(working, tuple)
    await deps.store.set_kill_switch(HALT)
    clock[0] += timedelta(seconds=2)

    done = await execute_trade(ReconcileTrade(trade=recorded.trade), deps)

    assert isinstance(done, TradeExecuted)
    assert broker.calls == ["execute", "resume:ord-7"]

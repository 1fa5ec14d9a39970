"""The execution stage's cancel: once per trade, audited, settled by Alpaca's answer, a refusal told once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from messages.events import (
    CancelOrder,
    CancelRefused,
    TradeExecuted,
    TradeFailed,
    TradeRecorded,
    TradeWorking,
    cancel_command_id,
)
from messages.trade import Execution, ExecutionError, OrderPending, TradeRequest
from tests.unit.fakes import FakeNotifier, ScriptedBroker, make_deps, submit
from workers.chain.stage_handlers import execution_stage
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred
from workers.handlers.notification import notify_trader
from workers.handlers.persistence import record_trade
from workers.handlers.validation import validate_trade

RESTING = OrderPending(state="working", execution_method="alpaca", alpaca_order_id="ord-7", reason="resting")
CANCELED = ExecutionError(
    code="ORDER_CANCELED",
    message="The order was canceled before it filled",
    execution_method="alpaca",
    alpaca_order_id="ord-7",
)


def _filled(quantity: int) -> Execution:
    return Execution(
        execution_id=uuid.uuid4(),
        execution_method="alpaca",
        execution_price=Decimal("99.50"),
        filled_quantity=Decimal(quantity),
        execution_timestamp=datetime.now(UTC),
        execution_time_ms=Decimal(5),
        reference_price=Decimal("99.50"),
        slippage_bps=Decimal(0),
        market_impact_bps=Decimal(0),
        alpaca_order_id="ord-7",
    )


async def _working(deps: Deps) -> TradeRequest:
    """A limit buy of 10 resting at Alpaca (ScriptedBroker's first answer)."""
    validated = await validate_trade(
        submit(order_type="limit", limit_price=Decimal(95), time_in_force="gtc"), deps
    )
    recorded = await record_trade(validated, deps)  # type: ignore[arg-type]
    assert isinstance(recorded, TradeRecorded)
    outputs = await execution_stage(recorded, deps)
    assert isinstance(outputs, tuple) and isinstance(outputs[0], TradeWorking)
    return recorded.trade


def _cancel(trade: TradeRequest, by: str = "U123") -> CancelOrder:
    return CancelOrder(
        trade=trade,
        command_id=cancel_command_id(trade.trade_id),
        requested_by=by,
        requested_at=datetime.now(UTC),
    )


async def _audit_types(deps: Deps, trade: TradeRequest) -> list[str]:
    return [event.event_type for event in await deps.store.list_audit(trade.trade_id)]


def _as_tuple(outputs: object) -> tuple[object, ...]:
    return outputs if isinstance(outputs, tuple) else () if outputs is None else (outputs,)


async def test_a_working_order_is_canceled_once_and_its_trade_ends_canceled() -> None:
    broker = ScriptedBroker(RESTING, CANCELED, cancels=("requested",))
    deps = make_deps(broker=broker)
    trade = await _working(deps)

    outputs = _as_tuple(await execution_stage(_cancel(trade), deps))
    again = await execution_stage(_cancel(trade), deps)  # a double click, or a redelivery

    assert [type(o) for o in outputs] == [TradeFailed]
    assert isinstance(outputs[0], TradeFailed) and outputs[0].error.code == "ORDER_CANCELED"
    assert again is None
    assert broker.calls.count("cancel:ord-7") == 1
    assert (await deps.store.get_trade(trade.trade_id)).status == "failed"  # type: ignore[union-attr]
    audit = await _audit_types(deps, trade)
    assert {"cancel_requested", "canceled", "trade_failed"} <= set(audit)
    assert "cancel_refused" not in audit


async def test_a_cancel_that_loses_to_the_fill_says_too_late_and_the_trade_executes() -> None:
    broker = ScriptedBroker(RESTING, _filled(10), cancels=("not_cancelable",))
    deps = make_deps(broker=broker)
    trade = await _working(deps)

    outputs = _as_tuple(await execution_stage(_cancel(trade), deps))

    refused, executed = outputs
    assert isinstance(refused, CancelRefused) and refused.code == "TOO_LATE"
    assert "already filled (10 of 10 shares at $99.50)" in refused.message
    assert isinstance(executed, TradeExecuted) and executed.execution.filled_quantity == 10
    assert {"cancel_requested", "cancel_refused", "trade_executed"} <= set(await _audit_types(deps, trade))


async def test_a_partly_filled_order_canceled_keeps_its_filled_part() -> None:
    broker = ScriptedBroker(RESTING, _filled(4), cancels=("requested",))
    deps = make_deps(broker=broker)
    trade = await _working(deps)

    [executed] = _as_tuple(await execution_stage(_cancel(trade), deps))

    assert isinstance(executed, TradeExecuted)
    assert executed.execution.filled_quantity == 4  # the position is updated with the 4 that filled


async def test_a_finished_trade_is_refused_without_asking_alpaca() -> None:
    broker = ScriptedBroker(_filled(10))
    deps = make_deps(broker=broker)
    validated = await validate_trade(submit(order_type="limit", limit_price=Decimal(101)), deps)
    recorded = await record_trade(validated, deps)  # type: ignore[arg-type]
    assert isinstance(recorded, TradeRecorded)
    assert isinstance(await execution_stage(recorded, deps), TradeExecuted)

    [refused] = _as_tuple(await execution_stage(_cancel(recorded.trade), deps))

    assert isinstance(refused, CancelRefused) and refused.code == "TOO_LATE"
    assert not [call for call in broker.calls if call.startswith("cancel")]
    assert await execution_stage(_cancel(recorded.trade), deps) is None  # told once


async def test_a_trade_not_placed_yet_is_canceled_once_its_order_is_there() -> None:
    deps = make_deps(broker=ScriptedBroker())
    validated = await validate_trade(submit(order_type="limit", limit_price=Decimal(95)), deps)
    recorded = await record_trade(validated, deps)  # type: ignore[arg-type]
    assert isinstance(recorded, TradeRecorded)

    with pytest.raises(Deferred):
        await execution_stage(_cancel(recorded.trade), deps)


async def test_a_refused_cancel_is_told_to_the_trader_once() -> None:
    notifier = FakeNotifier()
    broker = ScriptedBroker(RESTING, _filled(10), cancels=("not_cancelable",))
    deps = make_deps(broker=broker, notifier=notifier)
    trade = await _working(deps)
    refused = _as_tuple(await execution_stage(_cancel(trade), deps))[0]
    assert isinstance(refused, CancelRefused)

    await notify_trader(refused, deps)
    await notify_trader(refused, deps)  # redelivered

    assert [type(n) for n in notifier.sent].count(CancelRefused) == 1
    assert "cancel_refused_notified" in await _audit_types(deps, trade)

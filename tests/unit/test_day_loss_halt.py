"""A trader whose realized day P&L reaches their day-loss limit is halted REDUCING by the positions stage,
journaled and alerted once; an operator's lift holds for the day."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from brokers.port import MarketConditions
from messages.alerts import SendAlert
from messages.events import PositionUpdated, TradeExecuted, TradeRejected
from messages.limits import DeskLimits, RiskLimits
from messages.records import KillSwitch, pending_record
from messages.trade import Execution
from tests.unit.fakes import make_deps, submit, trade
from workers.handlers.deps import Deps
from workers.handlers.positions import update_position
from workers.handlers.validation import validate_trade

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 10:00 in New York


async def _executed(deps: Deps, side: str, quantity: int, price: str) -> TradeExecuted:
    request = trade(side=side, quantity=Decimal(quantity), submitted_at=NOW)
    execution = Execution(
        execution_id=uuid.uuid4(),
        execution_method="simulation",
        execution_price=Decimal(price),
        filled_quantity=Decimal(quantity),
        execution_timestamp=NOW,
        execution_time_ms=Decimal(5),
        reference_price=Decimal(price),
        slippage_bps=Decimal(0),
        market_impact_bps=Decimal(0),
    )
    record = msgspec.structs.replace(
        pending_record(request, recorded_at=NOW, expires_at=0),
        status="executed",
        execution_id=execution.execution_id,
        execution_method="simulation",
        execution_price=execution.execution_price,
        filled_quantity=execution.filled_quantity,
        execution_timestamp=NOW,
        execution_time_ms=execution.execution_time_ms,
        reference_price=execution.reference_price,
        slippage_bps=Decimal(0),
        market_impact_bps=Decimal(0),
    )
    assert await deps.store.put_new_trade(record, []) is None
    return TradeExecuted(trade=request, execution=execution)


def _split(result: object) -> tuple[PositionUpdated, list[SendAlert]]:
    if isinstance(result, PositionUpdated):
        return result, []
    assert isinstance(result, tuple)
    return result[0], list(result[1:])


async def test_a_loss_past_the_limit_halts_the_trader_reducing_and_alerts_once() -> None:
    deps = make_deps(clock=lambda: NOW)
    assert await deps.store.put_limits(DeskLimits(users={"U123": RiskLimits(day_loss_halt=Decimal(50))}), 0)
    _, alerts = _split(await update_position(await _executed(deps, "buy", 10, "100"), deps))
    assert alerts == []
    loss = await _executed(deps, "sell", 10, "94")
    updated, [alert] = _split(await update_position(loss, deps))
    assert updated.position.day_realized_pnl == Decimal(-60) and updated.position.pnl_day == "2026-12-07"
    switch = await deps.store.get_kill_switch(user_id="U123")
    assert switch.engaged and switch.mode == "reducing" and switch.automatic
    assert switch.reason == "day P&L -$60.00 is at or below the day-loss limit of -$50.00"
    assert alert.kind == "halt" and alert.user_id == "U123" and "REDUCING" in alert.subject
    [entry] = await deps.store.list_activity("ops", NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert entry.event_type == "trading_halted" and entry.actor == "tradeflow"
    assert entry.details["user_id"] == "U123" and entry.details["automatic"] is True

    # A redelivery is the same alert (the alerts service sends it once), and no second journal entry.
    _, [again] = _split(await update_position(loss, deps))
    assert again.alert_id == alert.alert_id
    assert len(await deps.store.list_activity("ops", NOW - timedelta(hours=1), NOW + timedelta(hours=1))) == 1
    # Another trader is untouched.
    assert not (await deps.store.get_kill_switch(user_id="U456")).engaged


async def test_an_operators_lift_holds_for_the_rest_of_the_day() -> None:
    deps = make_deps(clock=lambda: NOW)
    assert await deps.store.put_limits(DeskLimits(desk=RiskLimits(day_loss_halt=Decimal(10))), 0)
    await update_position(await _executed(deps, "buy", 10, "100"), deps)
    await update_position(await _executed(deps, "sell", 5, "90"), deps)
    assert (await deps.store.get_kill_switch(user_id="U123")).engaged
    lifted = KillSwitch(engaged=False, user_id="U123", changed_by="OPS1", changed_at=NOW)
    await deps.store.set_kill_switch(lifted)
    _, alerts = _split(await update_position(await _executed(deps, "sell", 5, "80"), deps))
    assert alerts == [] and not (await deps.store.get_kill_switch(user_id="U123")).engaged


async def test_an_executed_trade_at_or_above_the_floor_raises_a_large_trade_alert() -> None:
    from workers.handlers.deps import TradingPolicy

    deps = make_deps(clock=lambda: NOW)
    deps = Deps(
        **{
            **deps.__dict__,
            "policy": TradingPolicy(**{**deps.policy.__dict__, "large_trade_notional": Decimal(1000)}),
        }
    )
    _, none = _split(await update_position(await _executed(deps, "buy", 9, "100"), deps))
    assert none == []
    big = await _executed(deps, "buy", 10, "100")
    _, [alert] = _split(await update_position(big, deps))
    assert alert.kind == "large_trade" and alert.notional == Decimal(1000) and alert.user_id == "U123"
    assert alert.subject == "tradeflow: U123 buy 10 AAPL ($1,000.00)"
    _, [again] = _split(await update_position(big, deps))  # a redelivery is the same alert
    assert again.alert_id == alert.alert_id


class _AccountDown:
    """A stock broker whose account lost money today: equity below the last close."""

    name = "account"

    def __init__(self, inner: object, equity: str, last_equity: str) -> None:
        self.inner, self.equity, self.last_equity = inner, Decimal(equity), Decimal(last_equity)

    async def conditions(self, symbol: str) -> MarketConditions:
        return MarketConditions(tradable=True, equity=self.equity, last_equity=self.last_equity)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


async def test_an_accounts_day_loss_past_its_limit_halts_the_account_reducing() -> None:
    deps = make_deps(clock=lambda: NOW)
    deps = Deps(**{**deps.__dict__, "broker": _AccountDown(deps.broker, "97000", "100000")})
    limits = DeskLimits(accounts={"main": RiskLimits(day_loss_halt=Decimal(2500))})
    assert await deps.store.put_limits(limits, 0)
    _, [alert] = _split(await update_position(await _executed(deps, "buy", 1, "100"), deps))
    switch = await deps.store.get_kill_switch("main")
    assert switch.engaged and switch.mode == "reducing" and switch.automatic and switch.user_id is None
    assert switch.reason == "day P&L -$3,000.00 is at or below the day-loss limit of -$2,500.00"
    assert alert.account == "main" and "--account main" in alert.body
    assert not (await deps.store.get_kill_switch(user_id="U123")).engaged
    # The desk has one account, and trades name none: its switch applies to them all the same.
    refused = await validate_trade(submit(quantity=Decimal(1)), deps)
    assert isinstance(refused, TradeRejected) and refused.reasons[0].code == "TRADING_REDUCING"
    assert "in the main account" in refused.reasons[0].message
    # Above the limit: nothing happens.
    calm = make_deps(clock=lambda: NOW)
    calm = Deps(**{**calm.__dict__, "broker": _AccountDown(calm.broker, "99000", "100000")})
    assert await calm.store.put_limits(limits, 0)
    _, none = _split(await update_position(await _executed(calm, "buy", 1, "100"), calm))
    assert none == [] and not (await calm.store.get_kill_switch("main")).engaged

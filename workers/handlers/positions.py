"""Positions stage: TradeExecuted → the fill applied to the position exactly once → PositionUpdated."""

from __future__ import annotations

import logging

import msgspec

from messages.alerts import SendAlert
from messages.events import PositionUpdated, TradeExecuted
from messages.records import Position
from messages.trade import Execution
from workers.handlers.audit import POSITION_GUARD_KEY, audit_event
from workers.handlers.day_loss import day_loss_halt, realized_today
from workers.handlers.deps import Deps
from workers.handlers.errors import InvariantViolation, UnknownTrade
from workers.handlers.position_math import apply_fill
from workers.handlers.trade_alerts import large_trade_alert
from workers.store.port import PositionWrite, StoreUnavailable

logger = logging.getLogger("tradeflow.stage.positions")

MAX_VERSION_CONFLICTS = 20


async def update_position(
    event: TradeExecuted, deps: Deps
) -> PositionUpdated | tuple[PositionUpdated | SendAlert, ...]:
    """Apply the stored fill under optimistic concurrency; the audit item guards against a second apply."""
    trade = event.trade
    held_at = (trade.user_id, trade.symbol, trade.account)
    reading = await deps.store.read_trade(trade.trade_id, position=held_at)
    record = reading.trade
    if record is None:
        raise UnknownTrade(f"trade {trade.trade_id} was never recorded")
    execution = record.execution()
    if execution is None:
        raise InvariantViolation(f"trade {trade.trade_id} is {record.status}, not executed; no fill to apply")
    stored = reading.position
    for attempt in range(MAX_VERSION_CONFLICTS):
        if attempt:  # another trade moved the position since it was read
            stored = await deps.store.get_position(*held_at)
        current = stored or Position(user_id=trade.user_id, symbol=trade.symbol, account=trade.account)
        now = deps.clock()
        moved = apply_fill(
            current,
            side=trade.side,
            quantity=execution.filled_quantity,
            price=execution.execution_price,
            trade_id=trade.trade_id,
            at=now,
        )
        after = msgspec.structs.replace(
            moved, version=current.version + 1, **realized_today(current, moved, now)
        )
        audit = audit_event(
            "position_updated",
            trade,
            at=now,
            retention_days=deps.retention_days,
            details={
                "execution_id": str(execution.execution_id),
                "position_before": _snapshot(current),
                "position_after": _snapshot(after),
            },
        )
        written = await deps.store.apply_position(after, current.version, audit)
        if written is PositionWrite.APPLIED:
            logger.info(
                "Position updated: %s %s %s -> %s (average cost %s, realized P&L %s)",
                trade.user_id,
                trade.symbol,
                current.quantity,
                after.quantity,
                after.average_cost,
                after.realized_pnl,
                extra={"outcome": "position_updated"},
            )
            updated = PositionUpdated(trade=trade, execution=execution, position=after)
            return await _with_halt(updated, deps)
        if written is PositionWrite.ALREADY_APPLIED:
            logger.info(
                "Position already updated by an earlier delivery: publishing it again",
                extra={"outcome": "duplicate"},
            )
            return await _with_halt(await _already_applied(event, execution, deps), deps)
    raise StoreUnavailable(
        f"position {trade.user_id}/{trade.symbol} kept moving under {MAX_VERSION_CONFLICTS} tries"
    )


async def _with_halt(
    updated: PositionUpdated, deps: Deps
) -> PositionUpdated | tuple[PositionUpdated | SendAlert, ...]:
    """The update, and the alerts of any day-loss halt it tipped (checked again on a redelivery, so a halt
    whose alert was never sent is alerted: the alert's id makes it one)."""
    alerts = (
        *large_trade_alert(updated, deps.policy.large_trade_notional),
        *await day_loss_halt(updated.trade, deps),
    )
    return (updated, *alerts) if alerts else updated


async def _already_applied(event: TradeExecuted, execution: Execution, deps: Deps) -> PositionUpdated:
    # An earlier delivery applied the fill and may have died before publishing: re-emit what it wrote.
    guard = await deps.store.get_audit(event.trade.trade_id, POSITION_GUARD_KEY)
    if guard is None:
        raise InvariantViolation(f"position guard of trade {event.trade_id} vanished")
    position = msgspec.convert(guard.details["position_after"], Position, strict=False)
    return PositionUpdated(trade=event.trade, execution=execution, position=position)


def _snapshot(position: Position) -> dict[str, object]:
    return {
        "user_id": position.user_id,
        "symbol": position.symbol,
        "quantity": str(position.quantity),
        "average_cost": str(position.average_cost),
        "realized_pnl": str(position.realized_pnl),
        "version": str(position.version),
    }

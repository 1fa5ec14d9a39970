"""Execution stage: TradeRecorded → the stock broker → the outcome recorded once → executed or failed."""

from __future__ import annotations

from datetime import datetime

import msgspec

from messages.events import TradeExecuted, TradeFailed, TradeRecorded
from messages.records import TradeRecord
from messages.trade import Execution, ExecutionError
from workers.handlers.audit import audit_event
from workers.handlers.deps import Deps
from workers.handlers.errors import InvariantViolation, UnknownTrade
from workers.handlers.sameness import ensure_same_trade


async def execute_trade(event: TradeRecorded, deps: Deps) -> TradeExecuted | TradeFailed:
    """Execute a PENDING trade; a trade already decided re-emits its stored outcome instead."""
    trade = event.trade
    record = await deps.store.get_trade(trade.trade_id)
    if record is None:
        raise UnknownTrade(f"trade {trade.trade_id} was never recorded")
    ensure_same_trade(record, trade)
    if record.is_terminal:
        return outcome_of(record)
    result = await deps.broker.execute(trade)
    now = deps.clock()
    if isinstance(result, Execution):
        decided = executed_record(record, result)
        audit = audit_event(
            "trade_executed",
            trade,
            at=now,
            retention_days=deps.retention_days,
            details=_execution_details(result),
        )
    else:
        decided = failed_record(record, result, at=now)
        audit = audit_event(
            "trade_failed",
            trade,
            at=now,
            retention_days=deps.retention_days,
            details={
                "execution_success": False,
                "error_code": result.code,
                "error": result.message,
                "execution_method": result.execution_method,
                "alpaca_order_id": result.alpaca_order_id,
            },
        )
    stored = await deps.store.record_outcome(decided, audit)
    return outcome_of(stored if stored is not None else decided)


def outcome_of(record: TradeRecord) -> TradeExecuted | TradeFailed:
    """The event a decided trade stands for."""
    trade = record.request()
    execution = record.execution()
    if execution is not None:
        return TradeExecuted(trade=trade, execution=execution)
    error = record.error()
    if error is not None:
        return TradeFailed(trade=trade, error=error, failed_at=record.execution_timestamp or record.timestamp)
    raise InvariantViolation(f"trade {record.trade_id} is {record.status}; only a recorded trade executes")


def executed_record(record: TradeRecord, execution: Execution) -> TradeRecord:
    return msgspec.structs.replace(
        record,
        status="executed",
        execution_id=execution.execution_id,
        execution_method=execution.execution_method,
        execution_price=execution.execution_price,
        filled_quantity=execution.filled_quantity,
        execution_timestamp=execution.execution_timestamp,
        alpaca_order_id=execution.alpaca_order_id,
        execution_time_ms=execution.execution_time_ms,
        reference_price=execution.reference_price,
        slippage_bps=execution.slippage_bps,
        market_impact_bps=execution.market_impact_bps,
    )


def failed_record(record: TradeRecord, error: ExecutionError, *, at: datetime) -> TradeRecord:
    return msgspec.structs.replace(
        record,
        status="failed",
        execution_method=error.execution_method,
        alpaca_order_id=error.alpaca_order_id,
        error_code=error.code,
        error_message=error.message,
        execution_timestamp=at,
    )


def _execution_details(execution: Execution) -> dict[str, object]:
    # The seed's audit "details" for trade_executed.
    return {
        "execution_id": str(execution.execution_id),
        "execution_success": True,
        "execution_method": execution.execution_method,
        "alpaca_order_id": execution.alpaca_order_id,
        "execution_price": str(execution.execution_price),
        "execution_time_ms": str(execution.execution_time_ms),
        "slippage_bps": str(execution.slippage_bps),
        "market_impact_bps": str(execution.market_impact_bps),
    }

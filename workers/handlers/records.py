"""How a trade record moves: to working or unknown, to executed or failed, and back to its event."""

from __future__ import annotations

from datetime import datetime

import msgspec

from messages.events import TradeExecuted, TradeFailed, TradeRejected
from messages.records import TradeRecord
from messages.trade import Execution, ExecutionError, OrderPending, TradeRequest
from workers.handlers.errors import InvariantViolation


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


def rejection_of(record: TradeRecord, trade: TradeRequest, now: datetime) -> TradeRejected:
    """The rejection a rejected trade's record stands for: the first decision, told again as it was."""
    return TradeRejected(trade=trade, reasons=record.rejection_reasons, rejected_at=record.recorded_at or now)


def recorded_since(record: TradeRecord) -> datetime:
    """When the trade was recorded, or approved if it waited for an approver: an open trade's age, against
    the deadlines, counts from here."""
    return approved_at(record) or record.recorded_at or record.timestamp


def approved_at(record: TradeRecord) -> datetime | None:
    """When an approver let the trade go (it entered the chain then), if it waited for one."""
    approval = record.approval
    return approval.decided_at if approval is not None and approval.decision == "approved" else None


def open_record(record: TradeRecord, pending: OrderPending) -> TradeRecord:
    return msgspec.structs.replace(
        record,
        status=pending.state,
        execution_method=pending.execution_method,
        alpaca_order_id=pending.alpaca_order_id or record.alpaca_order_id,
        fills=pending.fills or record.fills,
        order_status=pending.reason or record.order_status,
        legs=pending.legs or record.legs,
    )


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
        fills=execution.fills,
        legs=execution.legs or record.legs,
    )


def failed_record(record: TradeRecord, error: ExecutionError, *, at: datetime) -> TradeRecord:
    return msgspec.structs.replace(
        record,
        status="failed",
        execution_method=error.execution_method,
        alpaca_order_id=error.alpaca_order_id or record.alpaca_order_id,
        error_code=error.code,
        error_message=error.message,
        error_next_steps=error.next_steps,
        execution_timestamp=at,
    )

"""Records for the store contract: a trade at each stage, its audit events, a position, a journal entry, a
heartbeat."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec

from messages.records import ActivityEvent, AuditEvent, Heartbeat, Position, TradeRecord, pending_record
from messages.trade import Fill, TradeRequest
from tests.unit.fakes import NOW, trade

__all__ = ["NOW", "a_trade"]


def a_trade(**overrides: Any) -> TradeRequest:
    """A trade submitted at NOW, the moment every record here is stamped with (queries by day rely on it)."""
    return trade(**{"submitted_at": NOW, **overrides})


EXPIRES_AT = int(datetime(2033, 11, 25, tzinfo=UTC).timestamp())
SUBMITTED = "010#trade_submitted"
WORKING = "025#order_working"
UNKNOWN = "026#order_unknown"
EXECUTED = "030#trade_executed"
FAILED = "030#trade_failed"
POSITION_GUARD = "040#position_updated"


def pending(trade: TradeRequest | None = None) -> TradeRecord:
    return pending_record(trade or a_trade(), recorded_at=NOW, expires_at=EXPIRES_AT)


def working(record: TradeRecord, *fill_quantities: str) -> TradeRecord:
    """The order rests at the stock broker, with a partial fill per quantity given."""
    fills = tuple(
        Fill(quantity=Decimal(q), price=Decimal("150.0523"), timestamp=NOW) for q in fill_quantities
    )
    return msgspec.structs.replace(
        record,
        status="working",
        alpaca_order_id="61e69015-8549-4bfd-b9c3-01e75843f47d",
        order_status="partially_filled" if fills else "new",
        fills=fills,
        filled_quantity=sum((fill.quantity for fill in fills), Decimal(0)) if fills else None,
    )


def unknown(record: TradeRecord) -> TradeRecord:
    return msgspec.structs.replace(record, status="unknown", error_code="BROKER_TIMEOUT")


def executed(record: TradeRecord) -> TradeRecord:
    return msgspec.structs.replace(
        record,
        status="executed",
        execution_id=uuid.uuid4(),
        execution_method="simulation",
        execution_price=Decimal("150.0523"),
        filled_quantity=record.quantity,
        execution_timestamp=NOW,
        execution_time_ms=Decimal("12.5"),
        reference_price=Decimal("150.05"),
        slippage_bps=Decimal("0.1533"),
        market_impact_bps=Decimal("-0.01"),
    )


def failed(record: TradeRecord) -> TradeRecord:
    return msgspec.structs.replace(
        record, status="failed", error_code="BROKER_DOWN", error_message="no answer", execution_timestamp=NOW
    )


def audit(trade_id: uuid.UUID, event_key: str, details: dict[str, Any] | None = None) -> AuditEvent:
    return AuditEvent(
        trade_id=trade_id,
        event_key=event_key,
        event_type=event_key.split("#")[-1],
        audit_id=uuid.uuid4(),
        timestamp=NOW,
        user_id="U123",
        details=details or {},
        expires_at=EXPIRES_AT,
    )


def unchained(event: AuditEvent) -> AuditEvent:
    """The event as its writer made it, without the chain fields the store adds."""
    return msgspec.structs.replace(event, chain_seq=None, prev_hash=None, chain_hash=None)


def event_types(events: list[AuditEvent]) -> list[str]:
    return [event.event_type for event in events]


def position(trade_id: uuid.UUID, quantity: str, *, user_id: str = "U123", symbol: str = "AAPL") -> Position:
    return Position(
        user_id=user_id,
        symbol=symbol,
        quantity=Decimal(quantity),
        average_cost=Decimal("150.0523"),
        realized_pnl=Decimal("-0.0000001"),
        updated_at=NOW,
        last_trade_id=trade_id,
    )


def journal_entry(
    at: datetime, *, stream: str = "ops", event_type: str = "trading_halted", **details: Any
) -> ActivityEvent:
    return ActivityEvent(
        stream=stream,  # type: ignore[arg-type]
        event_type=event_type,
        actor="OPS1",
        at=at,
        event_id=uuid.uuid4(),
        details=details,
        expires_at=EXPIRES_AT,
    )


def heartbeat(
    pid: int, at: datetime, *, host: str = "worker-1", queues: tuple[str, ...] = ("validation",)
) -> Heartbeat:
    """A worker process's heartbeat at `at`, a minute after it started."""
    return Heartbeat(
        host=host,
        pid=pid,
        queues=queues,
        started_at=at - timedelta(minutes=1),
        beat_at=at,
        interval_ms=15_000,
        version="0.1.0",
    )

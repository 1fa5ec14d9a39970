"""Synthetic trade history for the export bench: trades in every outcome, each with its audit trail.

Executed trades (85 %, on Alpaca or the simulation) carry five audit events, failed ones (8 %) four, and
rejected ones (7 %) three, with the details and timings the real stages write.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from messages.records import AuditEvent, TradeRecord
from messages.trade import Fill, Rejection, TradeRequest
from workers.handlers.audit import audit_event, submitted_event
from workers.store.dynamodb.items import to_attributes, trade_attributes

RETENTION_DAYS = 2557
SYMBOLS = ("AAPL", "MSFT", "NVDA", "SPY", "JPM", "TSLA", "AMZN", "META")


def trade_items(count: int, first: datetime, last: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table kind, item) for `count` trades spread evenly over [first, last], each with its audit trail."""
    step = (last - first) / max(count - 1, 1)
    for n in range(count):
        record, events = _trade(n, first + step * n)
        yield "trades", trade_attributes(record)
        for event in events:
            yield "audit", to_attributes(event)


def _trade(n: int, submitted: datetime) -> tuple[TradeRecord, list[AuditEvent]]:
    request = TradeRequest(
        trade_id=uuid.uuid4(),
        user_id=f"U{n % 50:03d}",
        channel_id="C0BENCH",
        symbol=SYMBOLS[n % len(SYMBOLS)],
        side="buy" if n % 3 else "sell",
        quantity=Decimal(1 + n % 20),
        submitted_at=submitted,
    )
    at = [submitted + timedelta(milliseconds=ms) for ms in (0, 12, 61, 75, 90)]
    trail = [submitted_event(request, retention_days=RETENTION_DAYS)]
    base = TradeRecord(
        trade_id=request.trade_id,
        user_id=request.user_id,
        channel_id=request.channel_id,
        symbol=request.symbol,
        quantity=request.quantity,
        trade_type=request.side,
        status="rejected",
        timestamp=submitted,
        recorded_at=at[1],
        expires_at=trail[0].expires_at,
    )

    def event(kind: str, moment: datetime, **details: Any) -> AuditEvent:
        return audit_event(kind, request, at=moment, retention_days=RETENTION_DAYS, details=details)

    if n % 100 < 7:
        reason = Rejection(field="symbol", code="SYMBOL_NOT_ALLOWED", message="not on the allow-list")
        trail += [event("trade_rejected", at[1], reasons=["SYMBOL_NOT_ALLOWED"])]
        record = TradeRecord(**{**_fields(base), "rejection_reasons": (reason,)})
    elif n % 100 < 15:
        trail += [event("trade_recorded", at[1], status="pending")]
        trail += [event("trade_failed", at[2], error_code="ORDER_REJECTED", execution_method="alpaca")]
        record = TradeRecord(
            **{
                **_fields(base),
                "status": "failed",
                "execution_method": "alpaca",
                "alpaca_order_id": str(uuid.uuid4()),
                "error_code": "ORDER_REJECTED",
                "error_message": "Alpaca rejected the order: unable to process order",
                "error_next_steps": ("Check the order's parameters", "Try again later"),
                "execution_timestamp": at[2],
            }
        )
    else:
        alpaca = n % 2 == 0
        price = Decimal("150.0523") + Decimal(n % 97) / 100
        fills = (Fill(quantity=request.quantity, price=price, timestamp=at[2]),)
        trail += [event("trade_recorded", at[1], status="pending")]
        trail += [event("trade_executed", at[2], execution_price=str(price), method="alpaca")]
        trail += [event("position_updated", at[3], quantity=str(request.quantity))]
        record = TradeRecord(
            **{
                **_fields(base),
                "status": "executed",
                "execution_id": uuid.uuid4(),
                "execution_method": "alpaca" if alpaca else "simulation",
                "alpaca_order_id": str(uuid.uuid4()) if alpaca else None,
                "order_status": "filled" if alpaca else None,
                "execution_price": price,
                "filled_quantity": request.quantity,
                "execution_timestamp": at[2],
                "execution_time_ms": Decimal("48.7"),
                "reference_price": price - Decimal("0.02"),
                "slippage_bps": Decimal("1.33"),
                "market_impact_bps": Decimal("0.42"),
                "fills": fills,
            }
        )
    trail += [event("trade_notified", at[4], notifier="slack", outcome=record.status)]
    return record, trail


def _fields(record: TradeRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__struct_fields__}

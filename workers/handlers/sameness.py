"""The guard that one trade id always means one order."""

from __future__ import annotations

from messages.records import TradeRecord
from messages.trade import TradeRequest
from workers.handlers.errors import InvariantViolation


def ensure_same_trade(record: TradeRecord, trade: TradeRequest) -> None:
    """Refuse a message whose order differs from the one recorded under its trade id."""
    stored = record.request()
    mismatched = [
        name
        for name in ("user_id", "symbol", "side", "quantity", "order_type", "limit_price", "stop_price")
        if getattr(stored, name) != getattr(trade, name)
    ]
    if mismatched:
        raise InvariantViolation(
            f"trade {trade.trade_id} was recorded with a different {', '.join(mismatched)}; "
            "a trade id is never reused for another order"
        )

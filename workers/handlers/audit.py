"""Audit events: the keys that order a trade's trail and make each write idempotent."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from messages.records import SEVEN_YEARS_DAYS, AuditEvent
from messages.trade import TradeRequest

# The key orders a trade's events as the chain runs; one key per fact makes a redelivered write a no-op.
EVENT_KEYS = {
    "trade_submitted": "010#trade_submitted",
    # A trade above the approval threshold (handlers/approvals/): asked, the approvers' message and the
    # trader's notice, then its one decision, the message showing it and an approved trader's notice.
    "approval_requested": "012#approval_requested",
    "approval_posted": "013#approval_posted",
    "approval_waiting_notified": "014#approval_waiting_notified",
    "trade_approved": "015#trade_approved",
    "trade_approval_rejected": "015#trade_approval_rejected",
    "trade_approval_expired": "015#trade_approval_expired",
    "trade_approval_withdrawn": "015#trade_approval_withdrawn",
    "approval_decision_posted": "016#approval_decision_posted",
    "approval_approved_notified": "017#approval_approved_notified",
    "trade_recorded": "020#trade_recorded",
    "trade_rejected": "020#trade_rejected",
    "order_working": "025#order_working",
    "order_unknown": "026#order_unknown",
    "working_notified": "028#working_notified",
    # A trade's one cancel (handlers/cancels.py): asked, then Alpaca's answer, then the refusal's notice.
    "cancel_requested": "0291#cancel_requested",
    "canceled": "0292#canceled",
    "cancel_refused": "0292#cancel_refused",
    "cancel_refused_notified": "0293#cancel_refused_notified",
    # Its order replaced by a modify (handlers/modifies.py): the replacement trade's id.
    "modified": "0294#modified",
    "trade_executed": "030#trade_executed",
    "trade_failed": "030#trade_failed",
    "position_updated": "040#position_updated",
    "trade_notified": "050#trade_notified",
}
POSITION_GUARD_KEY = EVENT_KEYS["position_updated"]
NOTIFIED_KEY = EVENT_KEYS["trade_notified"]
WORKING_NOTIFIED_KEY = EVENT_KEYS["working_notified"]


def expires_at(now: datetime, retention_days: int) -> int:
    """The epoch second at which DynamoDB's TTL may delete the item; never before the regulatory minimum."""
    if retention_days < SEVEN_YEARS_DAYS:
        raise ValueError(f"retention of {retention_days} days is below the {SEVEN_YEARS_DAYS}-day minimum")
    return int((now + timedelta(days=retention_days)).timestamp())


def audit_event(
    event_type: str,
    trade: TradeRequest,
    *,
    at: datetime,
    retention_days: int,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """An audit item for one step of a trade, with the seed's common details filled in."""
    base: dict[str, Any] = {
        "trade_id": str(trade.trade_id),
        "symbol": trade.symbol,
        "side": trade.side,
        "channel_id": trade.channel_id,
    }
    if trade.notional is not None:
        base["notional"] = str(trade.notional)
    else:
        base["quantity"] = str(trade.quantity)
    base.update(details or {})
    return AuditEvent(
        trade_id=trade.trade_id,
        event_key=EVENT_KEYS[event_type],
        event_type=event_type,
        audit_id=uuid.uuid4(),
        timestamp=at,
        user_id=trade.user_id,
        details={k: v for k, v in base.items() if v is not None},
        expires_at=expires_at(at, retention_days),
    )


def submitted_event(trade: TradeRequest, *, retention_days: int, **details: Any) -> AuditEvent:
    """The first audit item of every trade: what the trader asked for, stamped when they asked."""
    return audit_event(
        "trade_submitted",
        trade,
        at=trade.submitted_at,
        retention_days=retention_days,
        details={
            "source": trade.source,
            "order_type": trade.order_type,
            "time_in_force": trade.time_in_force,
            "limit_price": None if trade.limit_price is None else str(trade.limit_price),
            "stop_price": None if trade.stop_price is None else str(trade.stop_price),
            **_richer_terms(trade),
            **details,
        },
    )


def _richer_terms(trade: TradeRequest) -> dict[str, Any]:
    """The terms only some orders have (a trail, extended hours): recorded only where present, so an older
    order's audit item reads as it always did."""
    terms: dict[str, Any] = {}
    if trade.trail_price is not None:
        terms["trail_price"] = str(trade.trail_price)
    if trade.trail_percent is not None:
        terms["trail_percent"] = str(trade.trail_percent)
    if trade.extended_hours:
        terms["extended_hours"] = True
    if trade.order_class != "simple":
        terms["order_class"] = trade.order_class
    for name in ("take_profit_price", "stop_loss_price", "stop_loss_limit_price", "leg", "leg_order_id"):
        if getattr(trade, name) is not None:
            terms[name] = str(getattr(trade, name))
    if trade.parent_trade_id is not None:
        terms["parent_trade_id"] = str(trade.parent_trade_id)
    if trade.account is not None:
        terms["account"] = trade.account
    return terms

"""Persistence stage: TradeValidated → the trade put as PENDING with its audit → TradeRecorded."""

from __future__ import annotations

import logging

from messages.events import TradeRecorded, TradeRejected, TradeValidated
from messages.records import pending_record
from workers.handlers.audit import audit_event, expires_at, submitted_event
from workers.handlers.deps import Deps
from workers.handlers.records import rejection_of
from workers.handlers.sameness import ensure_same_trade

logger = logging.getLogger("tradeflow.stage.persistence")
_DUPLICATE = {"outcome": "duplicate"}


async def record_trade(event: TradeValidated, deps: Deps) -> TradeRecorded | TradeRejected | None:
    """Put the trade conditionally as PENDING; a duplicate writes nothing."""
    trade, now = event.trade, deps.clock()
    record = pending_record(trade, recorded_at=now, expires_at=expires_at(now, deps.retention_days))
    audit = [
        submitted_event(
            trade, retention_days=deps.retention_days, validated_at=event.validated_at.isoformat()
        ),
        audit_event(
            "trade_recorded", trade, at=now, retention_days=deps.retention_days, details={"status": "pending"}
        ),
    ]
    existing = await deps.store.put_new_trade(record, audit)
    if existing is None:
        logger.info("Trade recorded as PENDING", extra={"outcome": "recorded"})
        return TradeRecorded(trade=trade, recorded_at=now)
    ensure_same_trade(existing, trade)
    if existing.status == "pending":
        # An earlier delivery wrote it and may have died before publishing; execution is idempotent.
        logger.info("Trade already recorded by an earlier delivery: publishing it again", extra=_DUPLICATE)
        return TradeRecorded(trade=trade, recorded_at=existing.recorded_at or now)
    if existing.status == "rejected":
        # An earlier delivery of the submission was refused (the market was closed, say) and died before it
        # published the refusal; this later one passed. The first decision stands, and the trader hears it.
        logger.info("Trade already rejected by an earlier delivery: telling the trader", extra=_DUPLICATE)
        return rejection_of(existing, trade, now)
    logger.info("Trade already %s: this duplicate changes nothing", existing.status, extra=_DUPLICATE)
    return None

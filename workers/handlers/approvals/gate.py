"""The approval gate: a validated trade above the approval threshold recorded `awaiting_approval`, and the
approvers asked (ApprovalRequested, and an `approval_waiting` alert)."""

from __future__ import annotations

import logging
from decimal import Decimal

import msgspec

from messages.alerts import SendAlert, alert_id_of
from messages.events import ApprovalRequested, TradeRejected
from messages.limits import DeskLimits
from messages.records import Approval, TradeRecord, pending_record
from messages.trade import TradeRequest
from workers.handlers.audit import audit_event, expires_at, submitted_event
from workers.handlers.deps import Deps
from workers.handlers.records import rejection_of
from workers.handlers.sameness import ensure_same_trade

logger = logging.getLogger("tradeflow.stage.validation")
_DUPLICATE = {"outcome": "duplicate"}

Held = tuple[ApprovalRequested | SendAlert | TradeRejected, ...]


async def approval_threshold(
    deps: Deps, account: str | None, limits: DeskLimits | None = None
) -> Decimal | None:
    """The notional above which a trade in `account` waits for an approver: the desk's or the account's
    threshold, the lower one where both are set; None where neither is. `limits`: as the caller read them
    (validation has), else read here."""
    limits = limits or await deps.store.get_limits()
    in_account = limits.for_account(deps.policy.account_of(account))
    both = (limits.desk.approval_notional, in_account.approval_notional)
    thresholds = [threshold for threshold in both if threshold is not None]
    return min(thresholds) if thresholds else None


async def approval_gate(
    trade: TradeRequest, cost: Decimal | None, deps: Deps, limits: DeskLimits | None = None
) -> Held | None:
    """Hold a validated trade above the approval threshold for an approver; None when it needs none.

    `cost` is the trade's notional as validation priced it (None when it could not be priced: a threshold
    set, it waits, as the approver then judges it without a price). An exit leg never waits: its parent did.
    Held, the trade is recorded `awaiting_approval` with its audit, and the outputs ask the approvers (an
    empty tuple: an earlier delivery already did all there is to do; send nothing, and no TradeValidated).
    """
    if trade.parent_trade_id is not None:
        return None
    threshold = await approval_threshold(deps, trade.account, limits)
    if threshold is None or (cost is not None and cost <= threshold):
        return None
    now = deps.clock()
    approval = Approval(
        threshold=threshold, notional=cost, requested_at=now, expires_at=now + deps.approvals.ttl
    )
    pending = pending_record(trade, recorded_at=now, expires_at=expires_at(now, deps.retention_days))
    record = msgspec.structs.replace(pending, status="awaiting_approval", approval=approval)
    details = {
        "threshold": str(threshold),
        "notional": None if cost is None else str(cost),
        "expires_at": approval.expires_at.isoformat(),
    }
    audit = [
        submitted_event(trade, retention_days=deps.retention_days),
        audit_event("approval_requested", trade, at=now, retention_days=deps.retention_days, details=details),
    ]
    existing = await deps.store.put_new_trade(record, audit)
    if existing is None:
        logger.info(
            "Trade awaits approval: notional %s above the threshold of $%s",
            "unknown" if cost is None else f"${cost:,.2f}",
            f"{threshold:,.2f}",
            extra={"outcome": "awaiting_approval"},
        )
        return _asked(record, trade)
    ensure_same_trade(existing, trade)
    if existing.status == "awaiting_approval":
        # An earlier delivery recorded it and may have died before asking: ask again (told once anyway).
        logger.info("Trade already awaits approval: asking again", extra=_DUPLICATE)
        return _asked(existing, trade)
    if existing.status == "rejected" and existing.approval is None:
        # An earlier delivery refused it and died before publishing: the first verdict stands, told.
        logger.info("Trade already rejected by an earlier delivery: telling the trader", extra=_DUPLICATE)
        return (rejection_of(existing, trade, now),)
    logger.info("Trade already %s: this duplicate changes nothing", existing.status, extra=_DUPLICATE)
    return ()


def _asked(record: TradeRecord, trade: TradeRequest) -> Held:
    approval = record.approval
    assert approval is not None
    requested = ApprovalRequested(
        trade=trade,
        notional=approval.notional,
        threshold=approval.threshold,
        requested_at=approval.requested_at,
        expires_at=approval.expires_at,
    )
    size = "an unknown notional" if approval.notional is None else f"${approval.notional:,.2f}"
    order = f"{trade.side.upper()} {trade.size_text} {trade.symbol}"
    alert = SendAlert(
        alert_id=alert_id_of("approval_waiting", str(trade.trade_id)),
        kind="approval_waiting",
        subject=f"Approval needed: {order} ({size}) by {trade.user_id}",
        body=(
            f"{trade.user_id} submitted {order}, {size}, above the approval threshold of "
            f"${approval.threshold:,.2f}. An approver decides in Slack before "
            f"{approval.expires_at:%Y-%m-%d %H:%M} UTC, or it expires. Trade ID: {trade.trade_id}"
        ),
        at=approval.requested_at,
        user_id=trade.user_id,
        account=trade.account,
        notional=approval.notional,
        trade_id=trade.trade_id,
    )
    return (requested, alert)

"""An approval's one decision: an approver's approve or reject, the trader's withdrawal or the expiry, checked
again and written with one conditional write; approved, the trade goes on to execution, else it ends rejected.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import msgspec

from messages.events import ApprovalDecided, DecideApproval, TradeRecorded, TradeRejected
from messages.records import Approval, ApprovalDecision, Role, TradeRecord
from messages.trade import Rejection
from workers.handlers.audit import audit_event
from workers.handlers.deps import Deps
from workers.handlers.errors import InvariantViolation, UnknownTrade
from workers.handlers.sameness import ensure_same_trade

logger = logging.getLogger("tradeflow.stage.validation")
_DUPLICATE = {"outcome": "duplicate"}

EXPIRY_ACTOR = "tradeflow"  # who decides an expiry: nobody did
Decided = tuple[TradeRecorded | TradeRejected | ApprovalDecided, ...] | None
_DECISIONS: dict[str, ApprovalDecision] = {
    "approve": "approved",
    "reject": "rejected",
    "expire": "expired",
    "withdraw": "withdrawn",
}
_AUDIT_TYPES: dict[ApprovalDecision, str] = {
    "approved": "trade_approved",
    "rejected": "trade_approval_rejected",
    "expired": "trade_approval_expired",
    "withdrawn": "trade_approval_withdrawn",
}


async def decide_approval(event: DecideApproval, deps: Deps) -> Decided:
    """Decide a trade awaiting approval, once: approved, it goes on to execution; else it ends rejected."""
    record = await deps.store.get_trade(event.trade.trade_id)
    if record is None:
        raise UnknownTrade(f"trade {event.trade.trade_id} was never recorded: there is nothing to decide")
    ensure_same_trade(record, event.trade)
    if record.approval is None:
        raise InvariantViolation(
            f"trade {record.trade_id} never waited for approval: there is nothing to decide"
        )
    decision, by, at = _decision_of(event, record.approval)
    if record.status != "awaiting_approval":
        return _decided_before(record, event, (decision, by, at), deps)
    refusal = await _refusal(event, record, deps)
    if refusal is not None:
        logger.warning(
            "Approval decision refused, nothing changed: %s", refusal, extra={"outcome": "approval_refused"}
        )
        return None
    decided = _decided_record(record, decision, by, at)
    audit = audit_event(
        _AUDIT_TYPES[decision],
        record.request(),
        at=deps.clock(),
        retention_days=deps.retention_days,
        details={
            "decision": decision,
            "decided_by": by,
            "decided_at": at.isoformat(),
            "source": event.source,
            "threshold": str(record.approval.threshold),
            "notional": None if record.approval.notional is None else str(record.approval.notional),
        },
    )
    stored = await deps.store.decide_approval(decided, audit)
    if stored is not None:  # another decision was written between the read and this write
        return _decided_before(stored, event, (decision, by, at), deps)
    logger.info("Trade %s by %s", decision, by, extra={"outcome": f"approval_{decision}", "decided_by": by})
    return _outputs(decided)


def _decision_of(event: DecideApproval, approval: Approval) -> tuple[ApprovalDecision, str, datetime]:
    """What the event decides: a click or a cancel at or after the request's expiry is too late, and the
    request expired then. An expiry is decided by nobody (whoever noticed it), when it was noticed."""
    if event.decision == "expire" or event.decided_at >= approval.expires_at:
        return "expired", EXPIRY_ACTOR, event.decided_at
    return _DECISIONS[event.decision], event.decided_by, event.decided_at


async def _refusal(event: DecideApproval, record: TradeRecord, deps: Deps) -> str | None:
    """Why this decision may not be made, or None. The ingress refuses the same clicks before it sends one:
    checked again here, where the decision is written, against a stale ingress or a forged message."""
    approval = record.approval
    assert approval is not None
    who = event.decided_by
    if event.decision == "expire":
        if event.decided_at < approval.expires_at:
            return f"the request expires at {approval.expires_at.isoformat()}, not yet at {event.decided_at}"
        return None
    if event.decided_at >= approval.expires_at:
        return None  # too late to decide: it expired, whoever asks
    if event.decision == "withdraw":
        if who == record.user_id or await _holds(deps, who, "operator"):
            return None
        return f"{who} may not withdraw {record.user_id}'s trade"
    if who == record.user_id:
        return f"{who} may not {event.decision} their own trade"
    if not await _holds(deps, who, "approver"):
        return f"{who} does not hold the approver role"
    return None


async def _holds(deps: Deps, who: str, role: Role) -> bool:
    """Whether `who` holds `role`; a refusal is read again from the store, as the roles' cache may lag a
    grant made a moment ago (the ingress, with a cache of its own, may have let the click through)."""
    if await deps.roles.has_role(who, role):
        return True
    return role in (await deps.store.get_roster()).roles_of(who)


def _decided_before(
    record: TradeRecord, event: DecideApproval, mine: tuple[ApprovalDecision, str, datetime], deps: Deps
) -> Decided:
    """The trade was decided already: by this very decision (a redelivery, which publishes its outcome
    again), or by another one that won (this one sends nothing: the approvers' message shows the winner)."""
    approval = record.approval
    assert approval is not None
    if (approval.decision, approval.decided_by, approval.decided_at) == mine:
        logger.info("Trade already %s by this decision: publishing it again", mine[0], extra=_DUPLICATE)
        return _outputs(record)
    logger.info(
        "Decision %r by %s came too late: the trade was %s by %s at %s",
        event.decision,
        event.decided_by,
        approval.decision or record.status,
        approval.decided_by,
        approval.decided_at,
        extra={"outcome": "approval_too_late"},
    )
    return None


def _decided_record(record: TradeRecord, decision: ApprovalDecision, by: str, at: datetime) -> TradeRecord:
    approval = record.approval
    assert approval is not None
    decided = msgspec.structs.replace(approval, decision=decision, decided_by=by, decided_at=at)
    if decision == "approved":
        return msgspec.structs.replace(record, status="pending", approval=decided)
    reason = _rejection(decided)
    return msgspec.structs.replace(
        record,
        status="rejected",
        approval=decided,
        rejection_reasons=(reason,),
        error_code=reason.code,
        error_message=reason.message,
    )


def _rejection(approval: Approval) -> Rejection:
    at = approval.decided_at
    assert at is not None
    when = f"{at:%H:%M} UTC"
    if approval.decision == "rejected":
        return Rejection(
            field="approval",
            code="APPROVAL_REJECTED",
            message=f"Rejected by <@{approval.decided_by}> at {when}",
            next_step="Ask the approver why, or submit a smaller trade",
        )
    if approval.decision == "expired":
        return Rejection(
            field="approval",
            code="APPROVAL_EXPIRED",
            message=f"No approver decided within {_minutes(approval.expires_at - approval.requested_at)}",
            next_step="Submit it again when an approver is there to decide",
        )
    return Rejection(
        field="approval",
        code="APPROVAL_WITHDRAWN",
        message=f"Withdrawn by <@{approval.decided_by}> at {when}, before an approver decided",
        next_step="Submit a new trade if you still want it",
    )


def _outputs(record: TradeRecord) -> Decided:
    decided = decided_event(record)
    if decided.decision == "approved":
        return (TradeRecorded(trade=decided.trade, recorded_at=decided.decided_at), decided)
    rejected = TradeRejected(
        trade=decided.trade, reasons=record.rejection_reasons, rejected_at=decided.decided_at
    )
    return (rejected, decided)


def decided_event(record: TradeRecord) -> ApprovalDecided:
    """The ApprovalDecided a decided trade's record stands for."""
    approval = record.approval
    assert approval is not None and approval.decision is not None and approval.decided_at is not None
    return ApprovalDecided(
        trade=record.request(),
        decision=approval.decision,
        decided_by=approval.decided_by or "",
        decided_at=approval.decided_at,
        notional=approval.notional,
        threshold=approval.threshold,
    )


def _minutes(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes < 1:
        return f"{int(span.total_seconds())} seconds"
    return f"{minutes} minute{'' if minutes == 1 else 's'}"

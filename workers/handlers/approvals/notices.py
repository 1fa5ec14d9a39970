"""The notifications stage's side of four eyes: the approvers asked once, their message showing the decision,
and the trader told it waits (then that it was approved; a refusal reaches them as their trade's rejection).

The approvers' message is posted once, under a lease and its `approval_posted` audit item, which keeps
where it was posted (channel, ts) for the decision's update. A decision may land before that post does (the
approvers' notice was retried): the update then finds no message and leaves it to the poster, which reads
the trade once its post is recorded and shows the decision itself; and a poster that finds the trade decided
before any post was recorded looks for one an earlier attempt made (its answer lost) and shows it the
decision. Updating twice shows the same thing.
"""

from __future__ import annotations

import logging

from messages.events import ApprovalDecided, ApprovalRequested
from workers.handlers.approvals.decisions import decided_event
from workers.handlers.audit import EVENT_KEYS, audit_event
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred, UnknownTrade
from workers.handlers.notification import NOTIFY_LEASE_MS, RECHECK_MS, notify_trader
from workers.handlers.ports import ApprovalPost, surely_unsent
from workers.store.port import LeaseClaim

logger = logging.getLogger("tradeflow.stage.notifications")
_DUPLICATE = {"outcome": "duplicate"}
POSTED_KEY = EVENT_KEYS["approval_posted"]
DECISION_POSTED_KEY = EVENT_KEYS["approval_decision_posted"]


async def notify_approval(event: ApprovalRequested | ApprovalDecided, deps: Deps) -> None:
    """Ask the approvers and tell the trader it waits; or show the decision (and tell an approved trader)."""
    if isinstance(event, ApprovalRequested):
        if await _ask_approvers(event, deps):
            await notify_trader(event, deps)
        return
    await _show_decision(event, deps)
    if event.decision == "approved":
        await notify_trader(event, deps)


async def _ask_approvers(event: ApprovalRequested, deps: Deps) -> bool:
    """Post the request once; True while the trade still waits (its trader's notice is news yet)."""
    trade = event.trade
    reading = await deps.store.read_trade(trade.trade_id, audit_keys={POSTED_KEY})
    if reading.trade is None:
        raise UnknownTrade(f"trade {trade.trade_id} was never recorded")
    waits = reading.trade.status == "awaiting_approval"
    if POSTED_KEY in reading.audit:
        logger.info("Approvers already asked: this duplicate changes nothing", extra=_DUPLICATE)
        return waits
    if not waits:
        # Decided before a post was recorded: an earlier attempt's post may be out all the same (its answer
        # lost), with buttons nobody can use any more. Found, it is shown the decision.
        found = await deps.notifier.find_approval_post(event)
        if found is None:
            logger.info("Trade %s was decided before the approvers were asked: not posted", trade.trade_id)
        else:
            await _recorded(found, event, deps)
            await _update(found, decided_event(reading.trade), deps)
        return False
    lease, now_ms = f"{POSTED_KEY}#{trade.trade_id}", int(deps.clock().timestamp() * 1000)
    claim = await deps.store.claim_lease_over(lease, now_ms=now_ms, lease_ms=NOTIFY_LEASE_MS)
    if claim is LeaseClaim.HELD:
        raise Deferred(f"the approvers of trade {trade.trade_id} are being asked", retry_after_ms=RECHECK_MS)
    try:
        # An earlier holder died holding the lease: its post may be out, unrecorded.
        found = await deps.notifier.find_approval_post(event) if claim is LeaseClaim.TAKEN_OVER else None
        post = found or await deps.notifier.ask_approvers(event)
    except Exception as exc:
        if claim is LeaseClaim.TAKEN and surely_unsent(exc):
            await _release(deps, lease, claimed_at_ms=now_ms)
        raise  # else the lease runs out and the next holder looks for the post before posting again
    await _recorded(post, event, deps)
    logger.info(
        "Approvers asked about trade %s (%s)", trade.trade_id, post.channel, extra={"outcome": "asked"}
    )
    # A decision made while this posted found no message to update: show it now.
    record = await deps.store.get_trade(trade.trade_id)
    if record is not None and record.status != "awaiting_approval":
        await _update(post, decided_event(record), deps)
        return False
    return True


async def _recorded(post: ApprovalPost, event: ApprovalRequested, deps: Deps) -> None:
    await deps.store.append_audit(
        audit_event(
            "approval_posted",
            event.trade,
            at=deps.clock(),
            retention_days=deps.retention_days,
            details={"notifier": deps.notifier.name, "channel": post.channel, "ts": post.ts},
        )
    )


async def _show_decision(event: ApprovalDecided, deps: Deps) -> None:
    trade = event.trade
    reading = await deps.store.read_trade(trade.trade_id, audit_keys={POSTED_KEY, DECISION_POSTED_KEY})
    if DECISION_POSTED_KEY in reading.audit:
        logger.info("The approvers' message shows the decision already", extra=_DUPLICATE)
        return
    posted = reading.audit.get(POSTED_KEY)
    if posted is None:
        logger.info("Trade %s has no approvers' message yet: its poster shows the decision", trade.trade_id)
        return
    post = ApprovalPost(channel=str(posted.details["channel"]), ts=str(posted.details["ts"]))
    await _update(post, event, deps)


async def _update(post: ApprovalPost, decided: ApprovalDecided, deps: Deps) -> None:
    await deps.notifier.show_decision(post, decided)
    await deps.store.append_audit(
        audit_event(
            "approval_decision_posted",
            decided.trade,
            at=deps.clock(),
            retention_days=deps.retention_days,
            details={"decision": decided.decision, "decided_by": decided.decided_by, "channel": post.channel},
        )
    )


async def _release(deps: Deps, lease: str, *, claimed_at_ms: int) -> None:
    try:
        await deps.store.release_lease(lease, claimed_at_ms=claimed_at_ms, lease_ms=NOTIFY_LEASE_MS)
    except Exception:  # the notifier's failure is the one to report; the lease runs out by itself
        logger.warning("Could not release the approvers' lease %s; it runs out by itself", lease)

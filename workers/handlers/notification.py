"""Notification stage: tell the trader once per fact (working, then the outcome), and audit it."""

from __future__ import annotations

import asyncio
import logging

from messages.events import (
    ApprovalDecided,
    ApprovalRequested,
    CancelRefused,
    PositionUpdated,
    TradeFailed,
    TradeHeld,
    TradeRejected,
    TradeWorking,
)
from workers.handlers.audit import EVENT_KEYS, NOTIFIED_KEY, WORKING_NOTIFIED_KEY, audit_event
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred, UnknownTrade
from workers.handlers.ports import Notice, surely_unsent
from workers.handlers.rate_waits import is_rate_limit_hold
from workers.store.port import LeaseClaim, StoreUnavailable

logger = logging.getLogger("tradeflow.stage.notifications")
_DUPLICATE = {"outcome": "duplicate"}

# Longer than a notifier call may take (its own timeouts bound it); a dead holder delays a notice this long,
# and so does a send whose answer was lost: a post still in flight at Slack has the rest of it to land.
NOTIFY_LEASE_MS = 30_000
RECHECK_MS = 1_000


# What a trader hears before the outcome: stale news once the outcome was told.
_BEFORE_THE_OUTCOME = (TradeWorking, ApprovalRequested, ApprovalDecided)


def _kind(
    event: PositionUpdated
    | TradeFailed
    | TradeRejected
    | TradeWorking
    | CancelRefused
    | ApprovalRequested
    | ApprovalDecided,
) -> tuple[str, str, str]:
    """(audit event type, audit key, outcome word) for each kind of notice."""
    if isinstance(event, ApprovalRequested):
        return "approval_waiting_notified", EVENT_KEYS["approval_waiting_notified"], "awaiting_approval"
    if isinstance(event, ApprovalDecided):
        return "approval_approved_notified", EVENT_KEYS["approval_approved_notified"], event.decision
    if isinstance(event, CancelRefused):
        return "cancel_refused_notified", EVENT_KEYS["cancel_refused_notified"], "cancel_refused"
    if isinstance(event, TradeWorking):
        return "working_notified", WORKING_NOTIFIED_KEY, event.state
    if isinstance(event, PositionUpdated):
        return "trade_notified", NOTIFIED_KEY, "executed"
    if isinstance(event, TradeFailed):
        return "trade_notified", NOTIFIED_KEY, "failed"
    assert isinstance(event, TradeRejected)
    return "trade_notified", NOTIFIED_KEY, "rejected"


async def notify_trader(event: Notice, deps: Deps) -> None:
    """Tell the trader, unless an earlier delivery did; a concurrent duplicate waits for the first."""
    if isinstance(event, TradeHeld):
        return await _tell_held(event, deps)
    trade = event.trade
    audit_type, key, outcome = _kind(event)
    reading = await deps.store.read_trade(trade.trade_id, audit_keys={key, NOTIFIED_KEY})
    if key in reading.audit:
        logger.info("Trader already told %s: this duplicate changes nothing", outcome, extra=_DUPLICATE)
        return None
    if isinstance(event, _BEFORE_THE_OUTCOME) and NOTIFIED_KEY in reading.audit:
        logger.info("Trader already told the outcome: %s is stale news", outcome, extra=_DUPLICATE)
        return None
    if reading.trade is None:
        raise UnknownTrade(f"trade {trade.trade_id} was never recorded")
    lease, now_ms = f"{key}#{trade.trade_id}", int(deps.clock().timestamp() * 1000)
    claim = await deps.store.claim_lease_over(lease, now_ms=now_ms, lease_ms=NOTIFY_LEASE_MS)
    if claim is LeaseClaim.HELD:
        raise Deferred(
            f"trade {trade.trade_id} is being notified by another delivery", retry_after_ms=RECHECK_MS
        )
    try:
        # An earlier holder died holding the lease: its notice may have gone out before it could say so.
        if claim is LeaseClaim.TAKEN_OVER and await deps.notifier.already_told(event):
            logger.info("The trader already has this notice (an earlier delivery sent it): not sent again")
        else:
            await deps.notifier.notify(event)
    except Exception as exc:
        if claim is LeaseClaim.TAKEN and surely_unsent(exc):
            # Nothing reached the trader: free the lease, so the retry claims it at once instead of
            # waiting NOTIFY_LEASE_MS as Deferred.
            await _release(deps, lease, claimed_at_ms=now_ms)
        # Otherwise the notice may be out (a timeout after Slack posted, a lost answer), or this delivery
        # inherited that doubt: keep the lease, so the retry takes it over once it runs out and reads the
        # DM history (`already_told`) before sending again. A notice that went out keeps the lease too.
        raise
    await deps.store.append_audit(
        audit_event(
            audit_type,
            trade,
            at=deps.clock(),
            retention_days=deps.retention_days,
            details={"notifier": deps.notifier.name, "outcome": outcome},
        )
    )
    logger.info(
        "Trader %s notified: %s (via %s)",
        trade.user_id,
        outcome,
        deps.notifier.name,
        extra={"outcome": "notified", "notice": outcome},
    )
    return None


async def _tell_held(event: TradeHeld, deps: Deps) -> None:
    """A trade held before it was recorded has no record, no lease and no audit item to guard its notice.

    It is told unless the store shows the trade recorded after all (it went on, and its outcome will be
    told), or the channel already holds this very notice (a redelivery). A store still down is the outage
    that held the trade: the trader is told what is known. The delivery that posts holds a claim on the
    notice in the shared state (Redis), so a duplicate delivery never reads the history while it posts.
    """
    trade = event.trade
    try:
        record = await deps.store.get_trade(trade.trade_id)
    except StoreUnavailable:
        record = None
    # A trade waiting for Alpaca's rate limit is recorded and still pending: that is what it is told.
    waits = record is not None and record.status == "pending" and is_rate_limit_hold(event.reason)
    if record is not None and not waits:
        logger.info("Trade %s was recorded after all: no %s notice", trade.trade_id, event.state)
        return None
    # The history is read before the post: two deliveries at once (a redelivery beside the first, two
    # TradeHeld of one trade) would both find it without the notice and both post. One claims the notice
    # in the shared state, which the outage leaves up; the other comes back once the claim runs out.
    claim = f"held_notice#{event.state}#{trade.trade_id}"
    if not await _claim_shared(deps, claim):
        raise Deferred(
            f"the {event.state} notice of trade {trade.trade_id} is being sent by another delivery",
            retry_after_ms=RECHECK_MS,
        )
    posting = False
    try:
        if await deps.notifier.already_told(event):
            logger.info("The trader already has the %s notice: not sent again", event.state, extra=_DUPLICATE)
            return None
        posting = True
        await deps.notifier.notify(event)
    except Exception as exc:
        if not posting or surely_unsent(exc):  # nothing reached the trader: the retry claims it at once
            await _unclaim_shared(deps, claim)
        raise  # else the claim stays, and runs out: the retry then reads the history the post may be in
    logger.info(
        "Trader %s told the trade is held: %s (at %s)",
        trade.user_id,
        event.state,
        event.stage,
        extra={"outcome": "notified", "notice": event.state},
    )
    return None


async def _claim_shared(deps: Deps, key: str) -> bool:
    """Claim `key` for NOTIFY_LEASE_MS in the shared state; True when claimed, or when there is no shared
    state to claim in (none configured, or unreachable: the history alone guards the notice then)."""
    if deps.shared is None:
        return True
    try:
        return await asyncio.to_thread(deps.shared.put_new, key, "claimed", NOTIFY_LEASE_MS)
    except Exception:  # SharedStateUnavailable: Redis down too
        logger.warning("Could not claim %s in the shared state: the DM history alone guards it", key)
        return True


async def _unclaim_shared(deps: Deps, key: str) -> None:
    if deps.shared is None:
        return
    try:
        await asyncio.to_thread(deps.shared.delete, key)
    except Exception:  # the failure to report is the notifier's; the claim runs out by itself
        logger.warning("Could not release %s; it runs out by itself", key)


async def _release(deps: Deps, lease: str, *, claimed_at_ms: int) -> None:
    try:
        await deps.store.release_lease(lease, claimed_at_ms=claimed_at_ms, lease_ms=NOTIFY_LEASE_MS)
    except Exception:  # the notifier's failure is the one to report; the lease runs out by itself
        logger.warning(
            "Could not release the notification lease %s; it runs out by itself", lease, exc_info=True
        )

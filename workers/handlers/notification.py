"""Notification stage: an outcome → the trader told once → `trade_notified` recorded in the audit trail."""

from __future__ import annotations

from messages.events import PositionUpdated, TradeFailed
from workers.handlers.audit import NOTIFIED_KEY, audit_event
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred, UnknownTrade
from workers.handlers.ports import Outcome

# Longer than a notifier call may take (its own timeouts bound it); a dead holder delays a notice this long.
NOTIFY_LEASE_MS = 30_000
RECHECK_MS = 1_000


async def notify_trader(event: Outcome, deps: Deps) -> None:
    """Tell the trader, unless an earlier delivery did; a concurrent duplicate waits for the first."""
    trade = event.trade
    if await deps.store.get_audit(trade.trade_id, NOTIFIED_KEY) is not None:
        return None
    if await deps.store.get_trade(trade.trade_id) is None:
        raise UnknownTrade(f"trade {trade.trade_id} was never recorded")
    now_ms = int(deps.clock().timestamp() * 1000)
    if not await deps.store.claim_lease(f"notify#{trade.trade_id}", now_ms=now_ms, lease_ms=NOTIFY_LEASE_MS):
        raise Deferred(
            f"trade {trade.trade_id} is being notified by another delivery", retry_after_ms=RECHECK_MS
        )
    await deps.notifier.notify(event)
    outcome = (
        "executed"
        if isinstance(event, PositionUpdated)
        else ("failed" if isinstance(event, TradeFailed) else "rejected")
    )
    await deps.store.append_audit(
        audit_event(
            "trade_notified",
            trade,
            at=deps.clock(),
            retention_days=deps.retention_days,
            details={"notifier": deps.notifier.name, "outcome": outcome},
        )
    )
    return None

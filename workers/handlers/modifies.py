"""Modify a working order: Alpaca's replace order, at the execution stage, as two trades' stories.

The replacement is a trade of its own (messages.events.ModifyOrder): its trade id is the new order's client
order id, so one trade is still one order, found, streamed and swept by its own id. The handler records it
first (pending, its `trade_submitted` naming the trade it replaces), then asks Alpaca under the original's
modify lease. Replaced, the original's chain gets `modified` (the replacement's id) and ends as Alpaca says
(`replaced`: failed ORDER_REPLACED, or executed with what filled before); the replacement rests, `working`,
and its trader gets its "Order Accepted, Working" notice. Refused (the order filled first, is not at the
exchange yet, a modify of a market order, trading halted), the replacement ends failed MODIFY_REFUSED with
the reason, told like any failed trade; the original is untouched.

Idempotent by the replacement's trade id: a second delivery finds it recorded and decided (nothing
happens) or still pending (its attempt died: it looks for the replacement at Alpaca before it asks again).
"""

from __future__ import annotations

import logging

from brokers.port import BrokerBusy, RateLimited, ReplaceAnswer
from messages.events import AnyMessage, ModifyOrder, ReconcileTrade, TradeFailed, TradeWorking
from messages.records import AuditEvent, TradeRecord, pending_record
from messages.trade import ExecutionError, OrderPending
from workers.handlers.approvals import approval_threshold
from workers.handlers.audit import audit_event, expires_at, submitted_event
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred, UnknownTrade
from workers.handlers.execution import execute_trade
from workers.handlers.halts import halt_of
from workers.handlers.records import failed_record, open_record, outcome_of
from workers.handlers.sameness import ensure_same_trade
from workers.store.port import LeaseClaim

logger = logging.getLogger("tradeflow.stage.execution")
_DUPLICATE = {"outcome": "duplicate"}
MODIFY_LEASE_MS = 30_000


async def modify_order(event: ModifyOrder, deps: Deps) -> tuple[AnyMessage, ...] | None:
    """Replace the trade's working order by the replacement's, once."""
    trade, replacement = event.trade, event.replacement
    record = await deps.store.get_trade(trade.trade_id)
    if record is None:
        raise UnknownTrade(f"trade {trade.trade_id} was never recorded: there is no order to modify")
    ensure_same_trade(record, trade)
    new = await _record_replacement(event, deps)
    if new.status != "pending":
        logger.info("The modify was answered already: this duplicate changes nothing", extra=_DUPLICATE)
        return None
    refusal = await _refusal(record, event, deps)
    if refusal:
        return (await _refuse(event, new, refusal, deps),)
    lease, now_ms = f"modify#{trade.trade_id}", int(deps.clock().timestamp() * 1000)
    if await deps.store.claim_lease_over(lease, now_ms=now_ms, lease_ms=MODIFY_LEASE_MS) is LeaseClaim.HELD:
        raise Deferred(f"a modify of trade {trade.trade_id} is being sent", retry_after_ms=1_000)
    answer = await _ask(event, record, deps)
    if answer.order_id is None:
        return (await _refuse(event, new, answer.refusal or "Alpaca would not replace the order", deps),)
    logger.info(
        "Trade %s modified: Alpaca's order %s replaces it as trade %s",
        trade.trade_id,
        answer.order_id,
        replacement.trade_id,
        extra={"outcome": "modified", "alpaca_order_id": answer.order_id},
    )
    await deps.store.append_audit(
        _audit(event, deps, "modified", record, replacement_trade_id=str(replacement.trade_id))
    )
    working = await _working(event, new, answer.order_id, deps)
    settled = await execute_trade(ReconcileTrade(trade=trade, reason="modified", recheck=False), deps)
    old = () if settled is None else settled if isinstance(settled, tuple) else (settled,)
    return (*old, *working)


async def _record_replacement(event: ModifyOrder, deps: Deps) -> TradeRecord:
    """The replacement trade, recorded pending with its first audit item (or as an earlier delivery did)."""
    replacement, now = event.replacement, deps.clock()
    record = pending_record(replacement, recorded_at=now, expires_at=expires_at(now, deps.retention_days))
    submitted = submitted_event(
        replacement,
        retention_days=deps.retention_days,
        replaces=str(event.trade.trade_id),
        requested_by=event.requested_by,
    )
    existing = await deps.store.put_new_trade(record, [submitted])
    if existing is not None:
        ensure_same_trade(existing, replacement)
        return existing
    return record


async def _refusal(record: TradeRecord, event: ModifyOrder, deps: Deps) -> str:
    """Why this order cannot be modified now, or into these terms ("" when it can)."""
    new, policy = event.replacement, deps.policy
    if new.quantity is None:
        return "Only an order for a number of shares can be modified"
    if new.quantity > policy.max_quantity:
        return f"The quantity {new.quantity} is above the limit of {policy.max_quantity} shares an order"
    value = new.cost_at(new.limit_price or new.stop_price)
    if value is not None and value > policy.max_notional:
        return f"The order's value ${value:,.2f} is above the limit of ${policy.max_notional:,.2f}"
    threshold = await approval_threshold(deps, record.account)
    if threshold is not None and value is not None and value > threshold:  # four eyes are not bypassed
        return (
            f"The order's value ${value:,.2f} is above the approval threshold of ${threshold:,.2f}: cancel "
            "it and submit the new order, which waits for an approver"
        )
    if record.is_terminal:
        return f"Too late to modify: the order is already {record.status}"
    if record.order_type == "market":
        return "A market order cannot be modified: cancel it instead"
    if record.status != "working" or record.execution_method != "alpaca":
        return "The order is not resting at Alpaca yet: try again in a moment"
    switch = await halt_of(deps.store, deps.policy.account_of(record.account), record.user_id)
    if switch.engaged and switch.mode == "halted":
        return "Trading is halted: no order may be changed until operators resume it"
    return ""


async def _ask(event: ModifyOrder, record: TradeRecord, deps: Deps) -> ReplaceAnswer:
    try:
        return await deps.broker.replace(event.trade, record.alpaca_order_id, event.replacement)
    except BrokerBusy as busy:  # nothing was sent: ask again once the account's budget has a slot
        wait_ms = int(busy.retry_after_s * 1000) if isinstance(busy, RateLimited) else 1_000
        raise Deferred(
            f"the modify of trade {record.trade_id} waits for Alpaca's rate limit",
            retry_after_ms=max(50, wait_ms),
        ) from busy


async def _working(
    event: ModifyOrder, new: TradeRecord, order_id: str, deps: Deps
) -> tuple[TradeWorking, ...]:
    """The replacement rests at Alpaca in the original's place: recorded `working`, and its trader told."""
    replacement = event.replacement
    reason = f"replaces trade {event.trade.trade_id}"
    pending = OrderPending(
        state="working", execution_method="alpaca", alpaca_order_id=order_id, reason=reason
    )
    audit = audit_event(
        "order_working",
        replacement,
        at=deps.clock(),
        retention_days=deps.retention_days,
        details={"alpaca_order_id": order_id, "reason": reason, "filled_quantity": "0"},
    )
    stored = await deps.store.record_progress(open_record(new, pending), audit)
    if stored is not None and stored.status != "pending":
        return ()  # an earlier delivery moved it on, and told it
    return (TradeWorking(trade=replacement, state="working", alpaca_order_id=order_id, reason=reason),)


async def _refuse(event: ModifyOrder, new: TradeRecord, why: str, deps: Deps) -> TradeFailed:
    """The replacement ends before it had an order: failed MODIFY_REFUSED, told; the original goes on."""
    error = ExecutionError(
        code="MODIFY_REFUSED",
        message=why,
        next_steps=(
            f"Your original order (trade {event.trade.trade_id}) is unchanged: check it with `/trade orders`",
        ),
    )
    failed = failed_record(new, error, at=deps.clock())
    audit = audit_event(
        "trade_failed",
        event.replacement,
        at=deps.clock(),
        retention_days=deps.retention_days,
        details={"execution_success": False, "error_code": error.code, "error": why},
    )
    stored = await deps.store.record_outcome(failed, audit)
    logger.info(
        "Modify of trade %s refused: %s", event.trade.trade_id, why, extra={"outcome": "modify_refused"}
    )
    outcome = outcome_of(stored if stored is not None else failed)
    assert isinstance(outcome, TradeFailed)  # a replacement that never had an order cannot have executed
    return outcome


def _audit(event: ModifyOrder, deps: Deps, kind: str, record: TradeRecord, **details: str) -> AuditEvent:
    replacement = event.replacement
    return audit_event(
        kind,
        event.trade,
        at=deps.clock(),
        retention_days=deps.retention_days,
        details={
            "requested_by": event.requested_by,
            "source": event.source,
            "alpaca_order_id": record.alpaca_order_id,
            "new_quantity": str(replacement.quantity),
            "new_limit_price": None if replacement.limit_price is None else str(replacement.limit_price),
            "new_stop_price": None if replacement.stop_price is None else str(replacement.stop_price),
            "new_time_in_force": replacement.time_in_force,
            **details,
        },
    )

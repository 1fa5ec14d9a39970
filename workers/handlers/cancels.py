"""Cancel a working order: the execution stage's second command, told on the trade's own audit chain.

A trade has one cancel (messages.events.cancel_command_id), made idempotent by its audit items: the first
delivery writes `cancel_requested`, asks the stock broker under the cancel's lease, and writes its answer
(`canceled`: Alpaca took it; `cancel_refused`: the order had ended, or none was found). A duplicate that
finds the answer written changes nothing, so a double click is one request to Alpaca. One that finds only
the request (its holder died before the answer was written) asks again: Alpaca answers a second cancel of
the same order 422, which is the same verdict.

The trade is then settled as every open trade is, by Alpaca's answer (a ReconcileTrade's look, at once): a
canceled order ends the trade failed ORDER_CANCELED, or executed with what filled before the cancel (the
position keeps the filled part); a cancel that lost the race to the fill ends it executed, and the trader
is told "too late" besides (CancelRefused, to the notifications stage). A trade still awaiting approval has
no order: its cancel withdraws the request (a DecideApproval, decided as any other: handlers/approvals/).
"""

from __future__ import annotations

import logging
from decimal import Decimal

from brokers.port import BrokerBusy, CancelAnswer, RateLimited
from messages.events import AnyMessage, CancelOrder, CancelRefused, DecideApproval, ReconcileTrade
from messages.records import AuditEvent, TradeRecord
from workers.handlers.audit import EVENT_KEYS, audit_event
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred, UnknownTrade
from workers.handlers.execution import execute_trade
from workers.handlers.sameness import ensure_same_trade
from workers.store.port import LeaseClaim

logger = logging.getLogger("tradeflow.stage.execution")
_DUPLICATE = {"outcome": "duplicate"}

REQUESTED, CANCELED, REFUSED = (EVENT_KEYS[k] for k in ("cancel_requested", "canceled", "cancel_refused"))
CANCEL_LEASE_MS = 30_000  # longer than a cancel request may take (the broker's read budget bounds it)
NOT_PLACED_RETRY_MS = 1_000


async def cancel_order(event: CancelOrder, deps: Deps) -> tuple[AnyMessage, ...] | None:
    """Cancel the trade's working order once; its outcome follows as the trade's own."""
    trade = event.trade
    reading = await deps.store.read_trade(trade.trade_id, audit_keys={REQUESTED, CANCELED, REFUSED})
    record = reading.trade
    if record is None:
        raise UnknownTrade(f"trade {trade.trade_id} was never recorded: there is no order to cancel")
    ensure_same_trade(record, trade)
    if CANCELED in reading.audit or REFUSED in reading.audit:
        logger.info("The cancel was answered already: this duplicate changes nothing", extra=_DUPLICATE)
        return None
    if record.is_terminal:
        return (await _refused(event, record, "TOO_LATE", deps),)
    if record.status == "awaiting_approval":  # no order yet: the cancel withdraws the request, if in time
        return (_withdrawal(event),)
    if record.status == "pending":  # its order is about to leave: cancel it once it is there
        raise Deferred(f"trade {trade.trade_id} has no order yet", retry_after_ms=NOT_PLACED_RETRY_MS)
    lease, now_ms = f"cancel#{trade.trade_id}", int(deps.clock().timestamp() * 1000)
    if await deps.store.claim_lease_over(lease, now_ms=now_ms, lease_ms=CANCEL_LEASE_MS) is LeaseClaim.HELD:
        raise Deferred(f"the cancel of trade {trade.trade_id} is being sent", retry_after_ms=1_000)
    if REQUESTED not in reading.audit:
        await deps.store.append_audit(
            _audit("cancel_requested", event, deps, {"order_status": record.status})
        )
    answer = await _ask(event, record, deps)
    logger.info(
        "Cancel of trade %s: Alpaca answered %s",
        trade.trade_id,
        answer,
        extra={"outcome": f"cancel_{answer}"},
    )
    if answer == "requested":
        await deps.store.append_audit(_audit("canceled", event, deps, {"answer": answer}))
        return await _settle(event, deps)
    settled = await _settle(event, deps)  # first: the refusal says how the order ended
    code = "TOO_LATE" if answer == "not_cancelable" else "NOT_AT_BROKER"
    now = await deps.store.get_trade(trade.trade_id)
    return (await _refused(event, now or record, code, deps, answer=answer), *settled)


async def _ask(event: CancelOrder, record: TradeRecord, deps: Deps) -> CancelAnswer:
    try:
        return await deps.broker.cancel(event.trade, record.alpaca_order_id)
    except BrokerBusy as busy:  # nothing was sent: ask again once a slot of the account's budget is free
        wait_ms = int(busy.retry_after_s * 1000) if isinstance(busy, RateLimited) else 1_000
        raise Deferred(
            f"the cancel of trade {record.trade_id} waits for Alpaca's rate limit",
            retry_after_ms=max(50, wait_ms),
        ) from busy


async def _settle(event: CancelOrder, deps: Deps) -> tuple[AnyMessage, ...]:
    """The trade settled by Alpaca's answer now (one look); an order still leaving the market is settled
    when the stream reports its end, as any working order's."""
    look = ReconcileTrade(trade=event.trade, reason="a cancel was requested", recheck=False)
    settled = await execute_trade(look, deps)
    if settled is None:
        return ()
    return settled if isinstance(settled, tuple) else (settled,)


async def _refused(
    event: CancelOrder, record: TradeRecord, code: str, deps: Deps, *, answer: str = "ended"
) -> CancelRefused:
    message = _why_refused(record, code)
    await deps.store.append_audit(
        _audit("cancel_refused", event, deps, {"answer": answer, "error_code": code, "error": message})
    )
    logger.info(
        "Cancel of trade %s refused: %s", record.trade_id, message, extra={"outcome": "cancel_refused"}
    )
    return CancelRefused(
        trade=event.trade,
        command_id=event.command_id,
        requested_by=event.requested_by,
        code=code,
        message=message,
    )


def _why_refused(record: TradeRecord, code: str) -> str:
    if code == "NOT_AT_BROKER":
        return "Too late to cancel: Alpaca holds no open order for this trade"
    if record.status == "executed":
        filled = record.filled_quantity or Decimal(0)
        price = f" at ${record.execution_price:,.2f}" if record.execution_price is not None else ""
        return f"Too late to cancel: the order had already filled ({filled}{_of(record)} shares{price})"
    if record.status == "failed":
        return f"Too late to cancel: the order had already ended ({record.error_code})"
    return f"Too late to cancel: Alpaca no longer accepts a cancel of this order (it is {record.status})"


def _withdrawal(event: CancelOrder) -> DecideApproval:
    return DecideApproval(
        trade=event.trade,
        decision="withdraw",
        decided_by=event.requested_by,
        decided_at=event.requested_at,
        source=event.source,
    )


def _audit(kind: str, event: CancelOrder, deps: Deps, details: dict[str, object]) -> AuditEvent:
    return audit_event(
        kind,
        event.trade,
        at=deps.clock(),
        retention_days=deps.retention_days,
        details={
            "command_id": str(event.command_id),
            "requested_by": event.requested_by,
            "source": event.source,
            **details,
        },
    )


def _of(record: TradeRecord) -> str:
    return "" if record.quantity is None else f" of {record.quantity}"

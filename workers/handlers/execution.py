"""Execution stage: a recorded trade → the stock broker → its outcome recorded once → executed or failed.

An order that rests at the stock broker, or whose request may have arrived but cannot be found yet, leaves
the trade open (`working` or `unknown`); a ReconcileTrade settles it later by looking the order up (the
stream's report of a resting order's end, the sweeper, or for `unknown` a recheck on a schedule): it never
places a second one (DESIGN §4, invariant 4).

A trade still pending past the deadline (`ReconcilePolicy.stuck_after` after its submission: its message sat
in a dead-letter queue, or a worker died mid-order) is never placed late (late_trades.py). No order leaves
while the kill switch is engaged: a trade validated before `halt` fails TRADING_HALTED here.

An order that may be at Alpaca is settled only by Alpaca's answer: a later attempt on a worker that cannot
ask Alpaca (disabled at boot) leaves the trade `unknown`, and the simulation's "I keep no orders" settles
nothing then; the trade waits for a worker that can ask.

Alpaca's rate limit (the account's budget, shared by every process) never fails a trade nor sends it to the
simulation: a trade whose order would wait is put back in its queue until a slot should be free, before
any other work (rate_waits.py); a refusal met later (BrokerBusy) does the same.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from brokers.port import BrokerBusy, BrokerResult, BrokerUnavailable
from messages.events import (
    ReconcileTrade,
    TradeExecuted,
    TradeFailed,
    TradeRecorded,
    TradeValidated,
    TradeWorking,
)
from messages.records import KillSwitch, TradeRecord
from messages.trade import Execution, ExecutionError, OrderPending
from workers.handlers.audit import audit_event
from workers.handlers.deps import Deps
from workers.handlers.errors import Deferred, InvariantViolation, UnknownTrade
from workers.handlers.execution_audit import execution_details, never_arrived
from workers.handlers.halts import halt_of
from workers.handlers.late_trades import VERDICT_MARGIN_MS, is_late, look_up_late
from workers.handlers.legs import leg_messages
from workers.handlers.rate_waits import queued, waiting
from workers.handlers.rechecks import one_recheck
from workers.handlers.records import executed_record, failed_record, open_record, outcome_of, recorded_since
from workers.handlers.sameness import ensure_same_trade
from workers.store.port import LeaseClaim

__all__ = ["VERDICT_MARGIN_MS", "execute_trade"]

logger = logging.getLogger("tradeflow.stage.execution")
_DUPLICATE = {"outcome": "duplicate"}

Outcome = TradeExecuted | TradeFailed
# What the stage sends on: the outcome, or the open trade's notice and recheck; with a bracket's, OCO's or
# OTO's exits to record (legs.py).
Emitted = (
    Outcome
    | TradeValidated
    | tuple[Outcome | TradeWorking | ReconcileTrade | TradeValidated, ...]
    | ReconcileTrade
    | None
)
MAX_RECHECK_MS = 60_000
# An order that still cannot be found this long after the trade was recorded never reached the stock broker.
UNKNOWN_GIVE_UP = timedelta(minutes=15)


async def execute_trade(event: TradeRecorded | ReconcileTrade, deps: Deps) -> Emitted:
    """Execute a PENDING trade, or settle an open one; a decided trade re-emits its stored outcome."""
    try:
        return await _execute_or_settle(event, deps)
    except BrokerBusy as busy:  # nothing was sent: the trade waits in its queue, untouched
        raise queued(event.trade, busy) from busy
    except BrokerUnavailable as unanswered:
        if isinstance(event, ReconcileTrade) and not event.recheck:
            # The sweeper's one look (it looks again next sweep): retried into a dead letter every sweep, it
            # would bury the operator under copies of one trade while Alpaca cannot be asked.
            logger.warning("Trade not settled this sweep: %s", unanswered, extra={"outcome": "unanswered"})
            return None
        raise


async def _execute_or_settle(event: TradeRecorded | ReconcileTrade, deps: Deps) -> Emitted:
    trade = event.trade
    record = await deps.store.get_trade(trade.trade_id)
    if record is None:
        raise UnknownTrade(f"trade {trade.trade_id} was never recorded")
    ensure_same_trade(record, trade)
    if record.is_terminal:
        logger.info("Trade already %s: publishing its outcome again", record.status, extra=_DUPLICATE)
        return _with_legs(record, outcome_of(record), deps)
    if record.status == "awaiting_approval":  # no order before an approval: its decision sends it here
        logger.warning("Trade awaits approval: nothing goes to the stock broker before an approver decides")
        return None
    if is_late(record, deps.clock(), deps.reconcile):
        late = await look_up_late(record, event, deps)
        if late is None or isinstance(late, ReconcileTrade):
            return late
        result = late
    elif record.status == "pending" and record.parent_trade_id is not None:
        # A leg: Alpaca placed it with its parent. It is looked up, never placed (legs.py).
        result = await deps.broker.resume(trade, record.leg_order_id)
    elif record.status == "pending":
        if isinstance(event, ReconcileTrade):
            # Its TradeRecorded is still queued or in flight: that delivery places the order.
            logger.info("Trade not placed yet: nothing to reconcile", extra={"outcome": "pending"})
            return None
        result = await _execute(record, deps)
    else:
        result = await deps.broker.resume(trade, record.alpaca_order_id)
        _ensure_alpaca_answered(record, result)
    if isinstance(result, OrderPending):
        return await _keep_open(record, result, event, deps)
    return await _decide(record, result, deps)


async def _execute(record: TradeRecord, deps: Deps) -> BrokerResult:
    """Place the trade's order under its order lease (see `_first_attempt`).

    A first attempt that the stock broker refused before any order left (unreachable, rate limited) gives
    the lease back, so its retry is a first attempt again; any other failure keeps it, so the next attempt
    looks for an order before it may fall back to the simulation. A trade whose order would wait for the
    account's rate budget waits in its queue before it takes the lease.
    """
    trade = record.request()
    wait_s = await deps.broker.admission(trade)
    if wait_s > 0:
        raise waiting(trade, wait_s)
    first, lease, claimed_at_ms = await _first_attempt(record, deps)
    switch = await halt_of(deps.store, deps.policy.account_of(record.account), record.user_id)
    # A REDUCING switch was judged at validation (only exposure-reducing trades passed it).
    if switch.engaged and switch.mode == "halted":
        return await _halted(record, switch, first, deps)
    try:
        return await deps.broker.execute(trade, first_attempt=first)
    except (BrokerUnavailable, BrokerBusy):
        if first:
            await deps.store.release_lease(lease, claimed_at_ms=claimed_at_ms, lease_ms=_lease_ms(deps))
        raise


def _lease_ms(deps: Deps) -> int:
    return int(deps.reconcile.attempt_limit.total_seconds() * 1000)


async def _first_attempt(record: TradeRecord, deps: Deps) -> tuple[bool, str, int]:
    """Take the trade's order lease; True for the first attempt, False when an earlier one died holding it.

    While another delivery holds it (a duplicate TradeRecorded), this one waits (Deferred) and then finds
    the trade decided. The lease lasts as long as an attempt may (the stage's time limit), so a live
    attempt is never overtaken; and only a first attempt may fall back to the simulation without first
    asking the stock broker whether an order exists (FallbackBroker).
    """
    lease, now_ms = f"order#{record.trade_id}", int(deps.clock().timestamp() * 1000)
    claim = await deps.store.claim_lease_over(lease, now_ms=now_ms, lease_ms=_lease_ms(deps))
    if claim is LeaseClaim.HELD:
        raise Deferred(f"trade {record.trade_id} is being executed by another delivery", retry_after_ms=1_000)
    return claim is LeaseClaim.TAKEN, lease, now_ms


async def _halted(record: TradeRecord, switch: KillSwitch, first: bool, deps: Deps) -> BrokerResult:
    """Trading is halted: no order leaves. An order an earlier attempt may have sent is still settled."""
    if not first:
        found = await deps.broker.resume(record.request(), None)
        if not (isinstance(found, OrderPending) and found.state == "unknown"):
            return found
        if found.execution_method != "alpaca":  # the simulation cannot say whether Alpaca holds one
            return OrderPending(
                state="unknown",
                execution_method="alpaca",
                reason="trading is halted and an earlier attempt may have sent this order to Alpaca, "
                "which this worker cannot ask",
            )
    why = f" ({switch.reason})" if switch.reason else ""
    return ExecutionError(
        code="TRADING_HALTED",
        message=f"Trading was halted{why} before this trade's order was sent: nothing was executed",
        next_steps=("Submit the trade again once operators resume trading",),
    )


def _ensure_alpaca_answered(record: TradeRecord, result: BrokerResult) -> None:
    """An order that may be at Alpaca is settled only by Alpaca's answer (DESIGN §4, invariant 4)."""
    if record.execution_method == "alpaca" and result.execution_method != "alpaca":
        raise BrokerUnavailable(
            f"trade {record.trade_id} may have an order at Alpaca, which this worker cannot ask "
            f"(it answered from the {result.execution_method}): it stays {record.status} until one can"
        )


async def _decide(record: TradeRecord, result: Execution | ExecutionError, deps: Deps) -> Emitted:
    trade, now = record.request(), deps.clock()
    if isinstance(result, Execution):
        decided = executed_record(record, result)
        audit = audit_event(
            "trade_executed",
            trade,
            at=now,
            retention_days=deps.retention_days,
            details=execution_details(result),
        )
    else:
        decided = failed_record(record, result, at=now)
        audit = audit_event(
            "trade_failed",
            trade,
            at=now,
            retention_days=deps.retention_days,
            details={
                "execution_success": False,
                "error_code": result.code,
                "error": result.message,
                "execution_method": result.execution_method,
                "alpaca_order_id": result.alpaca_order_id,
            },
        )
    stored = await deps.store.record_outcome(decided, audit)
    if stored is not None:
        logger.info(
            "Trade already %s by another delivery: publishing that outcome", stored.status, extra=_DUPLICATE
        )
    elif isinstance(result, Execution):
        logger.info(
            "Trade executed: %s %s at %s via %s (slippage %s bps, %s ms)",
            result.filled_quantity,
            trade.symbol,
            result.execution_price,
            result.execution_method,
            result.slippage_bps,
            result.execution_time_ms,
            extra={"outcome": "executed", "alpaca_order_id": result.alpaca_order_id},
        )
    else:
        logger.warning(
            "Trade failed: %s: %s (via %s)",
            result.code,
            result.message,
            result.execution_method,
            extra={"outcome": "failed", "error_code": result.code, "alpaca_order_id": result.alpaca_order_id},
        )
    final = stored if stored is not None else decided
    return _with_legs(final, outcome_of(final), deps)


async def _keep_open(
    record: TradeRecord, pending: OrderPending, event: TradeRecorded | ReconcileTrade, deps: Deps
) -> Emitted:
    trade, now = record.request(), deps.clock()
    given_up = now - recorded_since(record) > UNKNOWN_GIVE_UP
    if pending.state == "unknown" and record.status == "unknown" and given_up:
        return await _decide(record, never_arrived(), deps)
    progressed = open_record(record, pending)
    audit = audit_event(
        f"order_{pending.state}",
        trade,
        at=now,
        retention_days=deps.retention_days,
        details={
            "alpaca_order_id": pending.alpaca_order_id,
            "reason": pending.reason,
            "filled_quantity": str(sum(f.quantity for f in pending.fills)),
        },
    )
    stored = await deps.store.record_progress(progressed, audit)
    if stored is not None:
        if stored.is_terminal:
            logger.info(
                "Trade already %s by another delivery: publishing that outcome",
                stored.status,
                extra=_DUPLICATE,
            )
            return _with_legs(stored, outcome_of(stored), deps)
        raise InvariantViolation(f"trade {trade.trade_id} is {stored.status}: progress was not recorded")
    attempt = event.attempt + 1 if isinstance(event, ReconcileTrade) else 0
    recheck = ReconcileTrade(
        trade=trade,
        reason=pending.reason,
        attempt=attempt,
        delay_ms=min(MAX_RECHECK_MS, 1000 * 2 ** min(attempt, 6)),
    )
    # A resting order is not polled: the trade_updates stream reports its end (a ReconcileTrade then) and the
    # sweeper's one read of every open order catches what the stream missed. Only an order that may or may
    # not exist (unknown) is looked up again on a schedule.
    rechecked = pending.state == "unknown"
    if progressed.status == record.status and isinstance(event, ReconcileTrade):
        if not rechecked:
            logger.debug("Trade still working (%s): settled when its order ends", pending.reason)
            return None
        logger.debug(
            "Trade still %s (%s): rechecking in %d ms", pending.state, pending.reason, recheck.delay_ms
        )
        # Nothing new: keep rechecking, unless the sender looks again itself (the sweeper).
        return await one_recheck(recheck, deps) if event.recheck else None
    if progressed.status == record.status:
        # A TradeRecorded that finds its trade open already is a redelivery: the delivery that opened it may
        # have died between the store's write and its publishes, so its notice, recheck and exits go again
        # (the notifier tells the trader once, the store keeps one exit).
        logger.info(
            "Trade already %s by an earlier delivery: its notice goes again",
            pending.state,
            extra={"outcome": "duplicate", "alpaca_order_id": pending.alpaca_order_id},
        )
    else:
        logger.log(
            logging.WARNING if pending.state == "unknown" else logging.INFO,
            "Trade %s: %s (order %s); %s",
            pending.state,
            pending.reason,
            pending.alpaca_order_id,
            f"rechecking in {recheck.delay_ms} ms" if rechecked else "settled when its order ends",
            extra={"outcome": pending.state, "alpaca_order_id": pending.alpaca_order_id},
        )
    working = TradeWorking(
        trade=trade,
        state=pending.state,
        alpaca_order_id=pending.alpaca_order_id,
        reason=pending.reason,
        fills=pending.fills,
    )
    scheduled = await one_recheck(recheck, deps) if rechecked else None
    legs = leg_messages(progressed, at=now)
    return (working, scheduled, *legs) if scheduled is not None else (working, *legs)


def _with_legs(record: TradeRecord, outcome: Outcome, deps: Deps) -> Emitted:
    """The outcome, and a bracket's, OCO's or OTO's exits to record with it (again: the store keeps one)."""
    legs = leg_messages(record, at=deps.clock())
    return (outcome, *legs) if legs else outcome

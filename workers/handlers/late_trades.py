"""A pending trade past its deadline is never placed late: its order is looked up, and settled or failed.

The deadline counts from the trade's submission (its approval, when it waited for an approver), not from
when it was recorded: a SubmitTrade replayed
from a dead-letter queue a day later is recorded at replay time, and a market order placed then would
fill at the next day's price. No order found is a verdict only once no attempt that began before the
deadline can still send one; then the trade fails NOT_EXECUTED_IN_TIME and the trader is told.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from brokers.port import BrokerResult
from messages.events import ReconcileTrade, TradeRecorded
from messages.records import TradeRecord
from messages.trade import ExecutionError, OrderPending
from messages.types import ExecutionMethod
from workers.handlers.deps import Deps, ReconcilePolicy
from workers.handlers.records import approved_at, recorded_since
from workers.store.port import LeaseClaim

logger = logging.getLogger("tradeflow.stage.execution")

# A late trade's verdict message arrives this much after the moment it waits for (clocks differ a little).
VERDICT_MARGIN_MS = 1_000
MIN_LEASE_MS = 1_000
# An order lease's item outlives the lease by a day (the control table's TTL, store/dynamodb/control.py):
# until then a lease taken fresh proves no attempt ever held it. Past that, the order is looked up.
ORDER_LEASE_KEPT = timedelta(hours=23)


def submitted_since(record: TradeRecord) -> datetime:
    """When the trade was submitted (or recorded, if that is earlier: a submission clock running ahead); for
    a trade that waited for an approver, when it was approved: the approver judged it at that moment."""
    return approved_at(record) or min(record.timestamp, recorded_since(record))


def is_late(record: TradeRecord, now: datetime, policy: ReconcilePolicy) -> bool:
    """A pending trade submitted this long ago is not placed any more."""
    return record.status == "pending" and now - submitted_since(record) >= policy.stuck_after


async def look_up_late(
    record: TradeRecord, event: TradeRecorded | ReconcileTrade, deps: Deps
) -> BrokerResult | ReconcileTrade | None:
    """A pending trade past the deadline: settle its order if one exists, never place one now.

    It takes the trade's order lease first, so no attempt can send an order from now on. Taken fresh (no
    attempt ever held it, or each gave it back having sent nothing), no order exists: the trade fails
    NOT_EXECUTED_IN_TIME without a request to the stock broker. A trade that waited behind Alpaca's rate
    limit past its deadline then costs the account nothing; looking each one up spent the budget the
    trades behind it waited for, and made them late in turn.

    Taken over from an attempt that died holding it, the order is looked up. Until no attempt that began
    before the deadline can still send its order, no order found is no verdict: a TradeRecorded comes back
    as a ReconcileTrade at that moment, and any other sender (the sweeper, an operator) looks again itself.
    Held by a live attempt, or by another delivery of this late trade, there is nothing to do here.
    """
    trade, policy, now = record.request(), deps.reconcile, deps.clock()
    wait = submitted_since(record) + policy.stuck_after + policy.attempt_limit - now
    now_ms, lease_ms = int(now.timestamp() * 1000), max(int(wait.total_seconds() * 1000), MIN_LEASE_MS)
    claim = await deps.store.claim_lease_over(f"order#{record.trade_id}", now_ms=now_ms, lease_ms=lease_ms)
    if claim is LeaseClaim.HELD:
        logger.info("Late trade's order lease held (an attempt, or another delivery): nothing to do")
        return None
    if claim is LeaseClaim.TAKEN and now - submitted_since(record) < ORDER_LEASE_KEPT:
        return not_executed_in_time(
            OrderPending(state="unknown", execution_method=_method(deps), reason="no order was ever sent"),
            policy.stuck_after,
        )
    result = await deps.broker.resume(trade, record.alpaca_order_id)
    if not (isinstance(result, OrderPending) and result.state == "unknown"):
        return result  # an order exists: settle it as found
    if wait <= timedelta(0):
        return not_executed_in_time(result, policy.stuck_after)
    if isinstance(event, ReconcileTrade):
        return None
    return ReconcileTrade(
        trade=trade,
        reason="not executed in time: its order is looked for once no attempt can still send one",
        delay_ms=int(wait.total_seconds() * 1000) + VERDICT_MARGIN_MS,
        recheck=False,
    )


def _method(deps: Deps) -> ExecutionMethod:
    return "simulation" if deps.broker.name == "simulation" else "alpaca"


def not_executed_in_time(pending: OrderPending, deadline: timedelta) -> ExecutionError:
    return ExecutionError(
        code="NOT_EXECUTED_IN_TIME",
        message=(
            f"The trade was not executed within {_spoken(deadline)} of being submitted and no order exists "
            "for it at the stock broker: nothing was executed, and it will not be executed late"
        ),
        next_steps=("Check the market price, then submit the trade again if you still want it",),
        execution_method=pending.execution_method,
    )


def _spoken(span: timedelta) -> str:
    seconds = span.total_seconds()
    return f"{seconds:.0f} seconds" if seconds < 120 else f"{seconds / 60:.0f} minutes"

"""A pending trade past its deadline is never placed late: its order is looked up, and settled or failed.

The deadline counts from the trade's submission, not from when it was recorded: a SubmitTrade replayed
from a dead-letter queue a day later is recorded at replay time, and a market order placed then would
fill at the next day's price. No order found is a verdict only once no attempt that began before the
deadline can still send one; then the trade fails NOT_EXECUTED_IN_TIME and the trader is told.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from brokers.port import BrokerResult
from messages.events import ReconcileTrade, TradeRecorded
from messages.records import TradeRecord
from messages.trade import ExecutionError, OrderPending
from workers.handlers.deps import Deps, ReconcilePolicy
from workers.handlers.records import recorded_since

# A late trade's verdict message arrives this much after the moment it waits for (clocks differ a little).
VERDICT_MARGIN_MS = 1_000


def submitted_since(record: TradeRecord) -> datetime:
    """When the trade was submitted (or recorded, if that is earlier: a submission clock running ahead)."""
    return min(record.timestamp, recorded_since(record))


def is_late(record: TradeRecord, now: datetime, policy: ReconcilePolicy) -> bool:
    """A pending trade submitted this long ago is not placed any more."""
    return record.status == "pending" and now - submitted_since(record) >= policy.stuck_after


async def look_up_late(
    record: TradeRecord, event: TradeRecorded | ReconcileTrade, deps: Deps
) -> BrokerResult | ReconcileTrade | None:
    """A pending trade past the deadline: settle its order if one exists, never place one now.

    Until no attempt that began before the deadline can still send its order, no order found is no
    verdict: a TradeRecorded comes back as a ReconcileTrade at that moment, and any other sender (the
    sweeper, an operator) looks again itself.
    """
    trade, policy = record.request(), deps.reconcile
    result = await deps.broker.resume(trade, record.alpaca_order_id)
    if not (isinstance(result, OrderPending) and result.state == "unknown"):
        return result  # an order exists: settle it as found
    wait = submitted_since(record) + policy.stuck_after + policy.attempt_limit - deps.clock()
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

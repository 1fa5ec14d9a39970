"""A pending trade past its deadline is never placed late: its order is looked up, and settled or failed.

The deadline counts from the trade's submission, not from when it was recorded: a SubmitTrade replayed
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
from workers.handlers.deps import Deps, ReconcilePolicy
from workers.handlers.records import recorded_since
from workers.store.port import LeaseClaim

logger = logging.getLogger("tradeflow.stage.execution")
_DUPLICATE = {"outcome": "duplicate"}

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
    claimed_at_ms = await _first_to_look(record, deps) if isinstance(event, TradeRecorded) else None
    if claimed_at_ms == 0:
        return None
    try:
        result = await deps.broker.resume(trade, record.alpaca_order_id)
    except Exception:
        if claimed_at_ms is not None:  # its retry (the queue's) looks again
            await deps.store.release_lease(
                _late(record), claimed_at_ms=claimed_at_ms, lease_ms=_lease_ms(deps)
            )
        raise
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


async def _first_to_look(record: TradeRecord, deps: Deps) -> int:
    """When this delivery of a late trade's TradeRecorded claimed the look at its order (ms); 0 when another
    delivery holds it.

    Deliveries of a message multiply in a long outage (a retry re-enqueued by a worker that then lost its
    connection before the ack): each copy looking the order up and scheduling its own verdict spent the
    account's Alpaca budget on lookups while every other trade waited. One looks and schedules the verdict;
    the others end here (and the sweeper looks at any trade still open later).
    """
    now_ms = int(deps.clock().timestamp() * 1000)
    claim = await deps.store.claim_lease_over(_late(record), now_ms=now_ms, lease_ms=_lease_ms(deps))
    if claim is LeaseClaim.HELD:
        logger.info("Late trade already looked up by another delivery: nothing to do", extra=_DUPLICATE)
        return 0
    return now_ms


def _late(record: TradeRecord) -> str:
    return f"late#{record.trade_id}"


def _lease_ms(deps: Deps) -> int:
    return int(deps.reconcile.attempt_limit.total_seconds() * 1000)


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

"""`tradeflow reconcile`: the sweeper's sweep, on demand: stuck open trades sent to be settled, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from workers.handlers.sweeper import StuckTrade, find_stuck_trades, reconcile_message, spoken
from workers.settings import Settings

SENDER = "tradeflow reconcile"

# What the execution stage does with each kind of open trade it is sent.
WHAT_HAPPENS = {
    "pending": "recorded, never executed: its order is looked up, settled if found, else the trade fails "
    "NOT_EXECUTED_IN_TIME (never placed late)",
    "working": "its order rests at the stock broker: looked up, settled if it filled or ended",
    "unknown": "its order was never confirmed: looked up, settled if found",
}
YOUNG_PENDING = "younger than TRADEFLOW_STUCK_AFTER_S: left to its own TradeRecorded, which places the order"


def reconcile_now(settings: Settings, older_than: timedelta | None) -> dict[str, Any]:
    """Send a one-look ReconcileTrade for every open trade recorded at least `older_than` ago (None: all)."""
    from workers.chain.publisher import Publisher
    from workers.console.common import with_store

    now = datetime.now(UTC)
    stuck: list[StuckTrade] = with_store(
        settings, lambda store: find_stuck_trades(store, now=now, older_than=older_than)
    )
    publisher = Publisher(settings)
    try:
        for trade in stuck:
            publisher.send(reconcile_message(trade, SENDER))
    finally:
        publisher.close()
    deadline = timedelta(seconds=settings.tradeflow_stuck_after_s)
    return {
        "older_than_s": None if older_than is None else older_than.total_seconds(),
        "reconciling": [str(s.record.trade_id) for s in stuck],
        "trades": [_line(s, deadline) for s in stuck],
    }


def _line(stuck: StuckTrade, deadline: timedelta) -> dict[str, Any]:
    record = stuck.record
    young = record.status == "pending" and stuck.age < deadline
    return {
        "trade_id": str(record.trade_id),
        "user_id": record.user_id,
        "symbol": record.symbol,
        "status": record.status,
        "age_s": round(stuck.age.total_seconds(), 1),
        "reason": f"{SENDER}: {stuck.reason}",
        "then": YOUNG_PENDING if young else WHAT_HAPPENS[record.status],
    }


def render_reconcile(doc: dict[str, Any]) -> str:
    older = doc["older_than_s"]
    which = "" if older is None else f" recorded {spoken(timedelta(seconds=older))} ago or more"
    if not doc["trades"]:
        return f"No open trade{which}: nothing sent"
    lines = [f"Sent {len(doc['trades'])} open trade(s){which} to be settled with the stock broker:"]
    for trade in doc["trades"]:
        state = f"{trade['status']} for {spoken(timedelta(seconds=trade['age_s']))}"
        lines.append(f"  {trade['trade_id']}  {trade['symbol']:<6} {state}: {trade['then']}")
    return "\n".join(lines)

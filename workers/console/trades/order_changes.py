"""`tradeflow trade cancel`, `tradeflow positions close` and `tradeflow halt --cancel-working`: an operator
changes orders already sent, through the chain as the trader's own buttons do (handlers/cancel_requests.py,
handlers/position_closes.py). Each is journaled with who asked; with `--wait`, it waits for the outcomes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from messages.events import AnyMessage, SubmitTrade
from messages.records import TradeRecord
from workers.access.journal import Journal
from workers.handlers.cancel_requests import plan_cancel
from workers.handlers.position_closes import closing_trades
from workers.store.port import TradeStore

WAIT_POLL_S = 0.2


async def cancel_orders(
    store: TradeStore,
    journal: Journal,
    actor: str,
    send: Callable[[AnyMessage], None],
    *,
    target: str,
    owner: str | None,
    wait_s: float | None,
    source: str = "cli",
) -> dict[str, Any]:
    """Send a CancelOrder for each open order `target` names; BadCancel when it names none it may."""
    plan = await plan_cancel(
        store, target, requester=actor, operator=True, owner=owner, at=datetime.now(UTC), source=source
    )
    for command in plan.commands:
        await asyncio.to_thread(send, command)
    ids = [str(t.trade_id) for t in plan.trades]
    await journal.record("ops", "cancel_requested", actor, target=target, owner=owner, trade_ids=ids[:50])
    trades = await _settled(store, plan.trades, wait_s) if wait_s else plan.trades
    return {"target": target, "by": actor, "orders": [_row(t) for t in trades]}


async def close_positions(
    store: TradeStore,
    journal: Journal,
    actor: str,
    submit: Callable[[SubmitTrade], None],
    *,
    user_id: str,
    target: str,
) -> dict[str, Any]:
    """Submit the market order that flattens each position `target` names; BadClose when there is none."""
    trades = await closing_trades(store, user_id, target, channel_id=None, at=datetime.now(UTC), source="cli")
    for trade in trades:
        await asyncio.to_thread(submit, SubmitTrade(trade=trade))
    ids = [str(t.trade_id) for t in trades]
    await journal.record("ops", "close_requested", actor, user_id=user_id, target=target, trade_ids=ids)
    orders = [
        {"trade_id": str(t.trade_id), "side": t.side, "quantity": str(t.quantity), "symbol": t.symbol}
        for t in trades
    ]
    return {"user_id": user_id, "by": actor, "submitted": orders}


async def _settled(store: TradeStore, trades: list[TradeRecord], wait_s: float) -> list[TradeRecord]:
    """Each trade once it has ended, or as it stands when `wait_s` runs out."""
    deadline, latest = time.monotonic() + wait_s, list(trades)
    while time.monotonic() < deadline:
        latest = [await store.get_trade(t.trade_id) or t for t in latest]
        if not any(t.is_open for t in latest):
            break
        await asyncio.sleep(WAIT_POLL_S)
    return latest


def _row(trade: TradeRecord) -> dict[str, Any]:
    return {
        "trade_id": str(trade.trade_id),
        "user_id": trade.user_id,
        "order": f"{trade.trade_type.upper()} {trade.quantity} {trade.symbol} {trade.order_type}",
        "status": trade.status,
        "filled_quantity": str(trade.filled_quantity or 0),
        "error_code": trade.error_code,
    }


def render_cancel(doc: dict[str, Any]) -> str:
    if not doc["orders"]:
        return f"No working orders match {doc['target']}: nothing was sent."
    lines = [f"Cancel requested by {doc['by']} for {len(doc['orders'])} order(s):"]
    lines += [
        f"  {o['trade_id']}  {o['user_id']}  {o['order']}  {o['status']}"
        + (f" (filled {o['filled_quantity']})" if o["filled_quantity"] != "0" else "")
        for o in doc["orders"]
    ]
    return "\n".join(lines)


def render_close(doc: dict[str, Any]) -> str:
    lines = [f"Closing {doc['user_id']}'s positions at market (by {doc['by']}):"]
    lines += [
        f"  {o['trade_id']}  {o['side'].upper()} {o['quantity']} {o['symbol']}" for o in doc["submitted"]
    ]
    return "\n".join(lines)

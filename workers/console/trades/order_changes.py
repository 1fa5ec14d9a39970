"""`tradeflow trade cancel`, `trade modify`, `positions close` and `halt --cancel-working`: an operator
changes orders already sent, through the chain as the trader's own buttons do (handlers/cancel_requests.py,
handlers/position_closes.py). Each is journaled with who asked; with `--wait`, it waits for the outcomes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from messages.events import AnyMessage, ModifyOrder, SubmitTrade
from messages.records import TradeRecord
from messages.types import amount_problem
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


class BadModify(ValueError):
    """The trade cannot be modified (unknown, finished, a market order) or the terms are not amounts."""


async def modify_order(
    store: TradeStore,
    journal: Journal,
    actor: str,
    send: Callable[[AnyMessage], None],
    *,
    trade_id: uuid.UUID,
    terms: dict[str, str | None],
    wait_s: float | None,
) -> dict[str, Any]:
    """Send a ModifyOrder replacing the trade's working order with `terms` (quantity, limit_price,
    stop_price, time_in_force; None keeps the order's); with `wait_s`, wait for the replacement's fate."""
    record = await store.get_trade(trade_id)
    if record is None:
        raise BadModify(f"no trade {trade_id}")
    if record.is_terminal:
        raise BadModify(f"trade {trade_id} is already {record.status}: there is nothing left to modify")
    if record.order_type == "market":
        raise BadModify("a market order cannot be modified: cancel it instead")
    trade = record.request()
    filled = sum((fill.quantity for fill in record.fills), Decimal(0))
    assert trade.quantity is not None  # a dollar-amount order is a market order, refused above
    changes: dict[str, Any] = {"quantity": trade.quantity - filled}
    for field, text in terms.items():
        if text is None:
            continue
        changes[field] = text if field == "time_in_force" else _amount(field, text)
    try:
        replacement = msgspec.structs.replace(
            trade, trade_id=uuid.uuid4(), submitted_at=datetime.now(UTC), source="cli_modify", **changes
        )
    except (ValueError, TypeError) as exc:
        raise BadModify(str(exc)) from exc
    command = ModifyOrder(
        trade=trade, replacement=replacement, requested_by=actor, requested_at=datetime.now(UTC), source="cli"
    )
    await asyncio.to_thread(send, command)
    await journal.record(
        "ops",
        "modify_requested",
        actor,
        trade_id=str(trade_id),
        replacement_trade_id=str(replacement.trade_id),
    )
    status, error = "sent", None
    if wait_s:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            now = await store.get_trade(replacement.trade_id)
            if now is not None and now.status != "pending":
                status, error = now.status, now.error_code
                break
            await asyncio.sleep(WAIT_POLL_S)
    return {
        "trade_id": str(trade_id),
        "replacement_trade_id": str(replacement.trade_id),
        "quantity": str(replacement.quantity),
        "limit_price": None if replacement.limit_price is None else str(replacement.limit_price),
        "stop_price": None if replacement.stop_price is None else str(replacement.stop_price),
        "time_in_force": replacement.time_in_force,
        "status": status,
        "error_code": error,
        "by": actor,
    }


def _amount(field: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise BadModify(f"{field} {text!r} is not a number") from exc
    problem = amount_problem(value)
    if problem is not None:
        raise BadModify(f"{field} {problem}")
    return value


def render_modify(doc: dict[str, Any]) -> str:
    prices = "".join(f", {k.split('_')[0]} {doc[k]}" for k in ("limit_price", "stop_price") if doc[k])
    return (
        f"Modify of {doc['trade_id']} sent by {doc['by']}: {doc['quantity']} shares{prices}, "
        f"{doc['time_in_force']}\n  replacement trade {doc['replacement_trade_id']}: {doc['status']}"
        + (f" ({doc['error_code']})" if doc["error_code"] else "")
    )


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
        {"trade_id": str(t.trade_id), "side": t.side, "quantity": t.size_text, "symbol": t.symbol}
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
        "order": f"{trade.trade_type.upper()} {trade.size_text} {trade.symbol} {trade.order_type}",
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

"""`tradeflow orders USER_ID`: a trader's working orders and their most recent trades, as `/trade orders`
shows them in Slack (workers/handlers/trader_views.py reads both)."""

from __future__ import annotations

from typing import Any

from messages.records import TradeRecord
from workers.handlers.trader_views import working_and_recent
from workers.store.port import TradeStore


async def orders_document(store: TradeStore, user_id: str, recent: int) -> dict[str, Any]:
    working, latest = await working_and_recent(store, user_id, recent)
    return {
        "user_id": user_id,
        "working": [_order(t) for t in working],
        "recent": [_order(t) for t in latest],
    }


def _order(trade: TradeRecord) -> dict[str, Any]:
    order = {
        "trade_id": str(trade.trade_id),
        "submitted_at": trade.timestamp.isoformat(),
        "side": trade.trade_type,
        "quantity": None if trade.quantity is None else str(trade.quantity),
        "notional": None if trade.notional is None else str(trade.notional),
        "symbol": trade.symbol,
        "order_type": trade.order_type,
        "limit_price": None if trade.price is None else str(trade.price),
        "stop_price": None if trade.stop_price is None else str(trade.stop_price),
        "trail_price": None if trade.trail_price is None else str(trade.trail_price),
        "trail_percent": None if trade.trail_percent is None else str(trade.trail_percent),
        "extended_hours": trade.extended_hours or None,
        "time_in_force": trade.time_in_force,
        "status": trade.status,
        "filled_quantity": None if trade.filled_quantity is None else str(trade.filled_quantity),
        "execution_price": None if trade.execution_price is None else str(trade.execution_price),
        "execution_method": trade.execution_method,
        "alpaca_order_id": trade.alpaca_order_id,
        "error_code": trade.error_code,
    }
    return {key: value for key, value in order.items() if value is not None}


def render_orders(doc: dict[str, Any]) -> str:
    user = doc["user_id"]
    lines = [f"Working orders of {user}:" if doc["working"] else f"{user} has no working orders."]
    lines += [f"  {_line(order)}" for order in doc["working"]]
    if doc["recent"]:
        lines.append("Recent:")
        lines += [f"  {_line(order)}" for order in doc["recent"]]
    return "\n".join(lines)


def _line(order: dict[str, Any]) -> str:
    terms = order["order_type"]
    if "limit_price" in order:
        terms += f" {order['limit_price']}"
    if "stop_price" in order:
        terms += f" stop {order['stop_price']}"
    if "trail_price" in order:
        terms += f" trail ${order['trail_price']}"
    if "trail_percent" in order:
        terms += f" trail {order['trail_percent']}%"
    if order.get("extended_hours"):
        terms += " ext"
    filled = f", filled {order['filled_quantity']}" if "filled_quantity" in order else ""
    outcome = order["status"] + filled
    if "execution_price" in order:
        outcome += f" at {order['execution_price']} via {order.get('execution_method', '?')}"
    if "error_code" in order:
        outcome += f" ({order['error_code']})"
    side = order["side"].upper()
    size = order["quantity"] if "quantity" in order else f"${order['notional']}"
    return f"{order['trade_id']}  {side} {size} {order['symbol']} {terms} {order['time_in_force']}  {outcome}"

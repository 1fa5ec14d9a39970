"""`tradeflow trade show` and `tradeflow positions`: read the store and render for people or as JSON."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from messages.records import AuditEvent, Position, TradeRecord
from workers.store.port import TradeStore


async def trade_document(store: TradeStore, trade_id: uuid.UUID) -> dict[str, Any] | None:
    record = await store.get_trade(trade_id)
    if record is None:
        return None
    audit = await store.list_audit(trade_id)
    return {
        "trade": _clean(msgspec.to_builtins(record)),
        "audit": [msgspec.to_builtins(a) for a in audit],
        "trace_id": trade_id.hex,
    }


def render_trade(doc: dict[str, Any]) -> str:
    trade = doc["trade"]
    lines = [
        f"Trade {trade['trade_id']}  ({trade['status'].upper()})",
        f"  {trade['trade_type'].upper()} {_size(trade)} {trade['symbol']} {trade['order_type']}"
        f"  by {trade['user_id']}  submitted {trade['timestamp']}",
    ]
    for key in (
        "execution_method",
        "execution_price",
        "execution_timestamp",
        "execution_time_ms",
        "slippage_bps",
        "market_impact_bps",
        "alpaca_order_id",
        "error_code",
        "error_message",
    ):
        if key in trade:
            lines.append(f"  {key}: {trade[key]}")
    if "approval" in trade:
        lines.append(f"  approval: {_approval(trade['approval'])}")
    lines.append(f"  trace id: {doc['trace_id']}")
    lines.append("  audit trail:")
    lines += [f"    {a['timestamp']}  {a['event_type']}" for a in doc["audit"]]
    return "\n".join(lines)


async def positions_document(store: TradeStore, user_id: str) -> dict[str, Any]:
    positions = await store.list_positions(user_id)
    return {
        "user_id": user_id,
        "positions": [_clean(msgspec.to_builtins(p)) for p in positions if p.quantity or p.realized_pnl],
    }


def render_positions(doc: dict[str, Any]) -> str:
    if not doc["positions"]:
        return f"{doc['user_id']} holds no positions."
    lines = [
        f"Positions of {doc['user_id']}:",
        f"  {'SYMBOL':<8}{'QUANTITY':>12}{'AVG COST':>14}{'REALIZED P&L':>16}",
    ]
    lines += [
        f"  {p['symbol']:<8}{p['quantity']:>12}{p['average_cost']:>14}{p['realized_pnl']:>16}"
        for p in doc["positions"]
    ]
    return "\n".join(lines)


def _approval(approval: dict[str, Any]) -> str:
    """`approved by U0APPROVER at … (notional 20000 above 10000)`, or `awaiting until …`."""
    why = f"notional {approval.get('notional') or 'unknown'} above {approval['threshold']}"
    if approval.get("decision") is None:
        return f"awaiting until {approval['expires_at']} ({why})"
    return f"{approval['decision']} by {approval['decided_by']} at {approval['decided_at']} ({why})"


def _clean(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v not in (None, [], ())}


__all__ = [
    "AuditEvent",
    "Position",
    "TradeRecord",
    "positions_document",
    "render_positions",
    "render_trade",
    "trade_document",
]


def _size(trade: dict[str, Any]) -> str:
    return str(trade["quantity"]) if "quantity" in trade else f"${trade.get('notional')}"

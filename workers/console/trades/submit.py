"""`tradeflow submit`: build a SubmitTrade from the command line, publish it, wait for the outcome."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from messages.events import SubmitTrade
from messages.records import TradeRecord
from messages.types import amount_problem
from workers.handlers.audit import EVENT_KEYS, NOTIFIED_KEY, WORKING_NOTIFIED_KEY
from workers.store.port import TradeStore


class InvalidTrade(ValueError):
    """The command line does not describe a valid trade; the message names the field."""


def build_command(
    *,
    user_id: str,
    side: str,
    quantity: str,
    symbol: str,
    order_type: str = "market",
    limit_price: str | None = None,
    stop_price: str | None = None,
    trail: str | None = None,
    extended_hours: bool = False,
    confirmed: bool = False,
    order_class: str | None = None,
    exits: dict[str, str | None] | None = None,
    time_in_force: str = "day",
    account: str | None = None,
    channel_id: str | None = None,
    trade_id: uuid.UUID | None = None,
) -> SubmitTrade:
    """Check every field through the wire types themselves, so the CLI can never publish a bad trade."""
    size_field = "notional" if quantity.startswith("$") else "quantity"
    size = quantity.removeprefix("$")
    trail_field = "trail_percent" if (trail or "").endswith("%") else "trail_price"
    trail_amount = None if trail is None else trail.removesuffix("%").removeprefix("$")
    for field, text in (
        (size_field, size),
        ("limit_price", limit_price),
        ("stop_price", stop_price),
        (trail_field, trail_amount),
        *(exits or {}).items(),
    ):
        _check_amount(field, text)
    given = {field: text for field, text in (exits or {}).items() if text is not None}
    legs = len({"take_profit_price", "stop_loss_price"} & set(given))
    order_class = order_class or {2: "bracket", 1: "oto"}.get(legs, "simple")
    raw: dict[str, Any] = {
        "type": "SubmitTrade",
        "trade": {
            "trade_id": str(trade_id or uuid.uuid4()),
            "user_id": user_id,
            "channel_id": channel_id,
            "symbol": symbol,
            "side": side,
            size_field: size,
            "order_type": order_type,
            "limit_price": limit_price,
            "stop_price": stop_price,
            trail_field: trail_amount,
            "extended_hours": extended_hours,
            "confirmed": confirmed,
            "order_class": order_class,
            **given,
            "time_in_force": time_in_force,
            "account": account,
            "submitted_at": datetime.now(UTC).isoformat(),
            "source": "cli",
        },
    }
    try:
        return msgspec.convert(raw, SubmitTrade, strict=False)
    except msgspec.ValidationError as exc:
        raise InvalidTrade(_field_message(str(exc))) from exc
    except ValueError as exc:  # the order-shape rules (messages/order_shape.py): "field: problem"
        raise InvalidTrade(f"invalid {exc}") from exc


def _check_amount(field: str, text: str | None) -> None:
    """The wire's bounds on a number (messages.types), said with the field's name."""
    if text is None:
        return
    try:
        problem = amount_problem(Decimal(text))
    except InvalidOperation:
        problem = "is not a number"
    if problem is not None:
        raise InvalidTrade(f"invalid {field}: {text[:24]!r} {problem}")


def _field_message(message: str) -> str:
    # "Expected `str` matching regex ... - at `$.trade.symbol`" → "symbol: Expected ..."
    text, _, where = message.partition(" - at ")
    field = where.strip("`").removeprefix("$.trade").lstrip(".") or "trade"
    named, _, problem = text.partition(": ")  # the order-shape rules name their field themselves
    if field == "trade" and problem and named.isidentifier():
        field, text = named, problem
    return f"invalid {field}: {text}"


async def wait_for_outcome(
    store: TradeStore, trade_id: uuid.UUID, timeout_s: float, *, working_will_do: bool = False
) -> TradeRecord | None:
    """Poll until the trade is decided and its trader notified, or the deadline passes.

    With `working_will_do`, an order resting at the stock broker (`working`, its trader told so) is an
    answer too: a GTC limit order may rest for days; and so is a trade awaiting approval, its trader told.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record = await store.get_trade(trade_id)
        if record is not None and record.is_terminal and await store.get_audit(trade_id, NOTIFIED_KEY):
            return record
        if (
            working_will_do
            and record is not None
            and record.status == "working"
            and await store.get_audit(trade_id, WORKING_NOTIFIED_KEY)
        ):
            return record
        if (
            working_will_do
            and record is not None
            and record.status == "awaiting_approval"
            and await store.get_audit(trade_id, EVENT_KEYS["approval_waiting_notified"])
        ):
            return record
        await asyncio.sleep(0.1)
    return await store.get_trade(trade_id)


def outcome_document(record: TradeRecord | None, trade_id: uuid.UUID, *, notified: bool) -> dict[str, Any]:
    if record is None:
        return {"trade_id": str(trade_id), "status": "unknown", "trace_id": trade_id.hex, "notified": False}
    doc: dict[str, Any] = msgspec.to_builtins(record)
    doc = {k: v for k, v in doc.items() if v not in (None, [], ())}
    doc.update(trace_id=trade_id.hex, notified=notified)
    return doc


def render_outcome(doc: dict[str, Any]) -> str:
    status = doc.get("status", "unknown")
    line = f"Trade {doc['trade_id']}: {status.upper()}"
    if status == "executed":
        line += (
            f" via {doc['execution_method']} at ${doc['execution_price']}"
            f" ({doc['slippage_bps']} bps slippage, {doc['execution_time_ms']} ms)"
        )
    elif doc.get("error_message"):
        line += f": {doc['error_message']}"
    elif status == "working":
        order = doc.get("alpaca_order_id", "?")
        line += f": resting at the stock broker (order {order}); the trader hears when it fills"
    elif status == "awaiting_approval":
        expires = (doc.get("approval") or {}).get("expires_at", "?")
        line += f": above the approval threshold, it waits for an approver (until {expires})"
    elif status in ("pending", "unknown"):
        line += " (no outcome before the timeout; the trade may still complete)"
    return f"{line}\ntrace id: {doc['trace_id']}"

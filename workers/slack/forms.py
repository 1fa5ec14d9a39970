"""The trade modal: its blocks, the `/trade` text that prefills it, and the submission read back."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from messages.events import SubmitTrade
from messages.types import AMOUNT_BOUNDS, NEEDS_LIMIT_PRICE, NEEDS_STOP_PRICE, amount_problem

CALLBACK_ID = "trade_modal"
SIDE, SYMBOL, QUANTITY, ORDER_TYPE, LIMIT_PRICE, STOP_PRICE, TIME_IN_FORCE = (
    "side",
    "symbol",
    "quantity",
    "order_type",
    "limit_price",
    "stop_price",
    "time_in_force",
)
SYMBOL_PATTERN = re.compile(r"^[A-Z]{1,5}(\.[A-Z]{1,2})?$")  # as messages.types.Symbol
ORDER_TYPES = {"market": "Market", "limit": "Limit", "stop": "Stop", "stop_limit": "Stop limit"}
TIMES_IN_FORCE = {
    "day": "Day",
    "gtc": "Good till canceled",
    "ioc": "Immediate or cancel",
    "fok": "Fill or kill",
}

HELP = (
    "*Trade from Slack*\n"
    "`/trade` opens the trade form. Prefill it with the order:\n"
    "• `/trade buy 100 AAPL` (market order)\n"
    "• `/trade sell 5 MSFT limit 410.50` (limit order)\n"
    "• `/trade buy 10 TSLA stop 250` · `/trade buy 10 TSLA stop_limit 250 252 gtc`\n"
    "Side is `buy` or `sell`; time in force `day` (default), `gtc`, `ioc` or `fok`.\n"
    "`/trade orders`: your working orders and recent trades · `/trade positions`: what you hold · "
    "`/trade account`: cash, buying power, equity, today\n"
    "`/trade cancel TRADE_ID` · `/trade cancel AAPL` · `/trade cancel all`: cancel working orders "
    "(or press Cancel on an order's message) · `/trade modify TRADE_ID`: change its quantity, price or "
    "time in force\n"
    "`/trade close AAPL` · `/trade close all`: flatten a position at market · `/trade help`: this"
)


class Prefill(msgspec.Struct, frozen=True, kw_only=True):
    side: str | None = None
    quantity: str | None = None
    symbol: str | None = None
    order_type: str = "market"
    limit_price: str | None = None
    stop_price: str | None = None
    time_in_force: str = "day"


class BadTradeText(ValueError):
    """The slash command's text is not an order; the message says what was wrong."""


def parse_trade_text(text: str) -> Prefill:
    """`buy 100 AAPL [limit P | stop P | stop_limit STOP LIMIT] [day|gtc|ioc|fok]` → the form's prefill."""
    words = text.split()
    if not words:
        return Prefill()
    if len(words) < 3:
        raise BadTradeText(f"`{text}` is not an order: write `/trade buy 100 AAPL` (see `/trade help`).")
    side, quantity, symbol, *rest = words
    side = side.lower()
    if side not in ("buy", "sell"):
        raise BadTradeText(f"`{words[0]}` is not a side: use `buy` or `sell`.")
    if _amount(quantity) is None:
        raise BadTradeText(
            f"`{_clip(quantity)}` is not a quantity: use a positive number of shares with {AMOUNT_BOUNDS}, "
            "e.g. `100`."
        )
    order_type, limit_price, stop_price, time_in_force = "market", None, None, "day"
    if rest and rest[-1].lower() in TIMES_IN_FORCE:
        time_in_force = rest.pop().lower()
    if rest:
        order_type = rest[0].lower()
        prices = rest[1:]
        needed = {"market": 0, "limit": 1, "stop": 1, "stop_limit": 2}.get(order_type)
        if needed is None:
            raise BadTradeText(f"`{rest[0]}` is not an order type: use market, limit, stop or stop_limit.")
        if len(prices) != needed or any(_amount(p) is None for p in prices):
            raise BadTradeText(
                f"A {order_type} order needs {needed} positive price(s) with {AMOUNT_BOUNDS}, "
                "e.g. `/trade sell 5 MSFT limit 410.50`."
            )
        if order_type == "limit":
            limit_price = prices[0]
        elif order_type == "stop":
            stop_price = prices[0]
        elif order_type == "stop_limit":
            stop_price, limit_price = prices
    return Prefill(
        side=side,
        quantity=quantity,
        symbol=symbol.upper(),
        order_type=order_type,
        limit_price=limit_price,
        stop_price=stop_price,
        time_in_force=time_in_force,
    )


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal(text) if text is not None else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def _amount(text: str | None) -> Decimal | None:
    """The text as a quantity or price within the wire's bounds (messages.types), else None."""
    value = _decimal(text)
    return value if value is not None and amount_problem(value) is None else None


def _clip(text: str) -> str:
    return text if len(text) <= 24 else text[:20] + "…"


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label}, "value": value}


def _select(block_id: str, label: str, options: dict[str, str], initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": block_id,
        "options": [_option(v, t) for v, t in options.items()],
    }
    if initial in options:
        element["initial_option"] = _option(initial, options[initial])
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def _text(
    block_id: str, label: str, initial: str | None, *, optional: bool = False, hint: str = ""
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": block_id}
    if initial:
        element["initial_value"] = initial
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def trade_modal(trade_id: uuid.UUID, channel_id: str | None, prefill: Prefill) -> dict[str, Any]:
    """The modal `/trade` and "New trade" open; the trade id and origin channel ride in its metadata."""
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": json.dumps({"trade_id": str(trade_id), "channel_id": channel_id}),
        "title": {"type": "plain_text", "text": "New trade"},
        "submit": {"type": "plain_text", "text": "Execute Trade"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _select(SIDE, "Side", {"buy": "Buy", "sell": "Sell"}, prefill.side),
            _text(SYMBOL, "Symbol", prefill.symbol, hint="Ticker, e.g. AAPL or BRK.B"),
            _text(QUANTITY, "Quantity (shares)", prefill.quantity),
            _select(ORDER_TYPE, "Order type", ORDER_TYPES, prefill.order_type),
            _text(
                LIMIT_PRICE,
                "Limit price",
                prefill.limit_price,
                optional=True,
                hint="Limit and stop limit orders",
            ),
            _text(
                STOP_PRICE, "Stop price", prefill.stop_price, optional=True, hint="Stop and stop limit orders"
            ),
            _select(TIME_IN_FORCE, "Time in force", TIMES_IN_FORCE, prefill.time_in_force),
        ],
    }


def _values(view: dict[str, Any]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        for element in actions.values():
            selected = element.get("selected_option")
            raw = selected["value"] if selected else element.get("value")
            values[block_id] = raw.strip() if isinstance(raw, str) and raw.strip() else None
    return values


def read_submission(
    view: dict[str, Any], *, user_id: str, now: datetime | None = None
) -> SubmitTrade | dict[str, str]:
    """The submitted form as a SubmitTrade, or an `errors` map keyed by block id, in the trader's words."""
    values = _values(view)
    metadata = json.loads(view.get("private_metadata") or "{}")
    errors: dict[str, str] = {}
    if values.get(SIDE) not in ("buy", "sell"):
        errors[SIDE] = "Pick Buy or Sell."
    symbol = (values.get(SYMBOL) or "").upper()
    if not symbol:
        errors[SYMBOL] = "Enter a ticker, e.g. AAPL."
    elif not SYMBOL_PATTERN.match(symbol):
        errors[SYMBOL] = "Use a ticker of 1-5 capital letters, e.g. AAPL or BRK.B."
    quantity = _decimal(values.get(QUANTITY))
    if quantity is None or quantity <= 0:
        errors[QUANTITY] = "Enter a number of shares greater than 0, e.g. 100."
    elif amount_problem(quantity) is not None:
        errors[QUANTITY] = f"Enter a number of shares with {AMOUNT_BOUNDS}."
    order_type = values.get(ORDER_TYPE) or "market"
    for block_id, needs in ((LIMIT_PRICE, NEEDS_LIMIT_PRICE), (STOP_PRICE, NEEDS_STOP_PRICE)):
        price = values.get(block_id)
        name = block_id.replace("_", " ")
        if order_type in needs and price is None:
            errors[block_id] = f"A {ORDER_TYPES[order_type].lower()} order needs a {name}."
        elif price is not None and (_decimal(price) is None or Decimal(price) <= 0):
            errors[block_id] = f"Enter a {name} greater than 0, e.g. 410.50."
        elif price is not None and _amount(price) is None:
            errors[block_id] = f"Enter a {name} with {AMOUNT_BOUNDS}."
        elif price is not None and order_type not in needs:
            errors[block_id] = f"A {ORDER_TYPES[order_type].lower()} order takes no {name}: clear it."
    if errors:
        return errors
    raw = {
        "type": "SubmitTrade",
        "trade": {
            "trade_id": metadata.get("trade_id") or str(uuid.uuid4()),
            "user_id": user_id,
            "channel_id": metadata.get("channel_id"),
            "symbol": symbol,
            "side": values[SIDE],
            "quantity": values[QUANTITY],
            "order_type": order_type,
            "limit_price": values.get(LIMIT_PRICE),
            "stop_price": values.get(STOP_PRICE),
            "time_in_force": values.get(TIME_IN_FORCE) or "day",
            "submitted_at": (now or datetime.now(UTC)).isoformat(),
            "source": "slack",
            "slack_view_id": view.get("id"),
        },
    }
    try:
        return msgspec.convert(raw, SubmitTrade, strict=False)
    except msgspec.ValidationError as exc:
        return {_block_of(str(exc)): _plain(str(exc))}


def _block_of(message: str) -> str:
    """Which block a wire-type refusal belongs under (`… - at $.trade.symbol` → symbol)."""
    where = message.rpartition(" - at ")[2].strip("`")
    field = where.removeprefix("$.trade").lstrip(".")
    return (
        field
        if field in (SIDE, SYMBOL, QUANTITY, ORDER_TYPE, LIMIT_PRICE, STOP_PRICE, TIME_IN_FORCE)
        else SYMBOL
    )


def _plain(message: str) -> str:
    text = message.rpartition(" - at ")[0] or message
    if "regex" in text:
        return "Use a ticker of 1-5 capital letters, e.g. AAPL or BRK.B."
    return text


# The form's parts, for the modify modal (workers/slack/modify_form.py).
select_input, text_input, view_values = _select, _text, _values

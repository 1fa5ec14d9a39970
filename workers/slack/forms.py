"""The trade modal: its blocks, the `/trade` text that prefills it, and the submission read back."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from messages.events import SubmitTrade
from messages.order_shape import OrderShape, shape_problems
from messages.types import AMOUNT_BOUNDS
from workers.slack.trade_text import TIMES_IN_FORCE, Prefill, amount, decimal_or_none, size_of, trail_of

CALLBACK_ID = "trade_modal"
SIDE, SYMBOL, QUANTITY, ORDER_TYPE, LIMIT_PRICE, STOP_PRICE, TRAIL, TIME_IN_FORCE, EXTENDED_HOURS = (
    "side",
    "symbol",
    "quantity",
    "order_type",
    "limit_price",
    "stop_price",
    "trail",
    "time_in_force",
    "extended_hours",
)
ACCOUNT = "account"
CONFIRM = "confirm_repeat"
CONFIRM_OPTION = "yes"
ORDER_CLASS, TAKE_PROFIT, STOP_LOSS, STOP_LOSS_LIMIT = (
    "order_class",
    "take_profit",
    "stop_loss",
    "stop_loss_limit",
)
BLOCKS = (
    SIDE,
    SYMBOL,
    QUANTITY,
    ORDER_TYPE,
    LIMIT_PRICE,
    STOP_PRICE,
    TRAIL,
    TIME_IN_FORCE,
    EXTENDED_HOURS,
    ORDER_CLASS,
    TAKE_PROFIT,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    ACCOUNT,
    CONFIRM,
)
ORDER_CLASSES = {
    "simple": "Simple (one order)",
    "bracket": "Bracket (entry, take-profit and stop-loss)",
    "oto": "OTO (entry and one exit)",
    "oco": "OCO (take-profit limit and stop-loss on a position held)",
}
EXIT_FIELDS = {
    TAKE_PROFIT: "take_profit_price",
    STOP_LOSS: "stop_loss_price",
    STOP_LOSS_LIMIT: "stop_loss_limit_price",
}
# Where each order-shape problem (messages/order_shape.py) is shown in the modal.
PROBLEM_BLOCKS = {"notional": QUANTITY, "quantity": QUANTITY, "stop_loss_limit": STOP_LOSS_LIMIT}
EXTENDED_HOURS_OPTION = "on"
SYMBOL_PATTERN = re.compile(r"^[A-Z]{1,5}(\.[A-Z]{1,2})?$")  # as messages.types.Symbol
ORDER_TYPES = {
    "market": "Market",
    "limit": "Limit",
    "stop": "Stop",
    "stop_limit": "Stop limit",
    "trailing_stop": "Trailing stop",
}


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


def _extended_hours(initial: bool) -> dict[str, Any]:
    text = "Also trade in the pre-market and after-hours sessions"
    return _checkbox(
        EXTENDED_HOURS, EXTENDED_HOURS_OPTION, "Extended hours", text, initial, "Day limit orders only"
    )


def _confirm(initial: bool) -> dict[str, Any]:
    text = "Send it even if it repeats an order sent moments ago"
    return _checkbox(
        CONFIRM, CONFIRM_OPTION, "Repeat", text, initial, "The desk's duplicate guard asks first"
    )


def _checkbox(block_id: str, value: str, label: str, text: str, initial: bool, hint: str) -> dict[str, Any]:
    option = _option(value, text)
    element: dict[str, Any] = {"type": "checkboxes", "action_id": block_id, "options": [option]}
    if initial:
        element["initial_options"] = [option]
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "hint": {"type": "plain_text", "text": hint},
    }


def _account_picker(accounts: tuple[str, ...], initial: str | None) -> list[dict[str, Any]]:
    if not accounts:
        return []
    picker = _select(ACCOUNT, "Account", {a: a for a in accounts}, initial)
    picker["optional"] = True
    picker["hint"] = {"type": "plain_text", "text": "None picked: your default account"}
    return [picker]


_EXIT_HINT = "Bracket and OTO exits (an OCO's take-profit is its limit price)"


def trade_modal(
    trade_id: uuid.UUID, channel_id: str | None, prefill: Prefill, accounts: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The modal `/trade` and "New trade" open; the trade id and origin channel ride in its metadata.
    `accounts`: the desk's Alpaca accounts, offered in an Account picker (none: the desk has one)."""
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
            _text(
                QUANTITY,
                "Quantity (shares, or $ amount)",
                prefill.quantity,
                hint="100 shares, or $500 of the stock (a market day order, in fractional shares)",
            ),
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
            _text(TRAIL, "Trail", prefill.trail, optional=True, hint="Trailing stops: 1.50 (dollars) or 2%"),
            _select(TIME_IN_FORCE, "Time in force", TIMES_IN_FORCE, prefill.time_in_force),
            _extended_hours(prefill.extended_hours),
            _select(ORDER_CLASS, "Order class", ORDER_CLASSES, prefill.order_class),
            _text(
                TAKE_PROFIT, "Take-profit limit price", prefill.take_profit, optional=True, hint=_EXIT_HINT
            ),
            _text(STOP_LOSS, "Stop-loss stop price", prefill.stop_loss, optional=True, hint=_EXIT_HINT),
            _text(
                STOP_LOSS_LIMIT,
                "Stop-loss limit price",
                prefill.stop_loss_limit,
                optional=True,
                hint="Makes the stop-loss a stop-limit",
            ),
            *_account_picker(accounts, prefill.account),
            _confirm(prefill.confirmed),
        ],
    }


def _values(view: dict[str, Any]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        for element in actions.values():
            selected = element.get("selected_option")
            raw = selected["value"] if selected else element.get("value")
            if "selected_options" in element:  # checkboxes: the first ticked option's value
                ticked = element.get("selected_options") or []
                raw = ticked[0]["value"] if ticked else None
            values[block_id] = raw.strip() if isinstance(raw, str) and raw.strip() else None
    return values


def read_submission(
    view: dict[str, Any], *, user_id: str, now: datetime | None = None, accounts: tuple[str, ...] = ()
) -> SubmitTrade | dict[str, str]:
    """The submitted form as a SubmitTrade, or an `errors` map keyed by block id, in the trader's words.
    `accounts`: the desk's Alpaca accounts (an account it lacks is refused here; whether the trader may use
    one is validation's to say)."""
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
    size = size_of(values.get(QUANTITY))
    if size is None:
        errors[QUANTITY] = _size_error(values.get(QUANTITY))
    order_type = values.get(ORDER_TYPE) or "market"
    for block_id in (LIMIT_PRICE, STOP_PRICE):
        price = values.get(block_id)
        name = block_id.replace("_", " ")
        if price is not None and (decimal_or_none(price) is None or Decimal(price) <= 0):
            errors[block_id] = f"Enter a {name} greater than 0, e.g. 410.50."
        elif price is not None and amount(price) is None:
            errors[block_id] = f"Enter a {name} with {AMOUNT_BOUNDS}."
    trail = trail_of(values.get(TRAIL))
    if values.get(TRAIL) is not None and trail is None:
        errors[TRAIL] = f"Enter the trail as dollars (1.50) or a percent (2%), with {AMOUNT_BOUNDS}."
    exits: dict[str, Decimal] = {}
    for block_id, field in EXIT_FIELDS.items():
        text = values.get(block_id)
        exit_price = amount(text)
        if text is not None and exit_price is None:
            errors[block_id] = f"Enter a price greater than 0 with {AMOUNT_BOUNDS}, e.g. 220."
        elif exit_price is not None:
            exits[field] = exit_price
    account = (values.get(ACCOUNT) or "").lower() or None
    if account is not None and account not in accounts:
        known = ", ".join(accounts) if accounts else "this desk has one account: leave it empty"
        errors[ACCOUNT] = f"No account named {account[:32]} ({known})."
    terms: dict[str, Any] = {
        "account": account,
        "side": values.get(SIDE) or "buy",
        "order_type": order_type,
        "time_in_force": values.get(TIME_IN_FORCE) or "day",
        "limit_price": values.get(LIMIT_PRICE),
        "stop_price": values.get(STOP_PRICE),
        "extended_hours": values.get(EXTENDED_HOURS) == EXTENDED_HOURS_OPTION,
        "confirmed": values.get(CONFIRM) == CONFIRM_OPTION,
        "order_class": values.get(ORDER_CLASS) or "simple",
        **exits,
        **dict([size] if size else []),
        **dict([trail] if trail else []),
    }
    # The order's shape is checked whatever else is wrong, so every field's problem shows at once; a field
    # whose text is malformed keeps that error (the shape sees it as empty).
    shape = msgspec.convert(
        {**terms, **{name: amount(terms[name]) for name in ("limit_price", "stop_price")}},
        OrderShape,
        strict=False,
    )
    for field, problem in shape_problems(shape).items():
        errors.setdefault(PROBLEM_BLOCKS.get(field, field), problem + ".")
    if errors:
        return errors
    raw = {
        "type": "SubmitTrade",
        "trade": {
            "trade_id": metadata.get("trade_id") or str(uuid.uuid4()),
            "user_id": user_id,
            "channel_id": metadata.get("channel_id"),
            "symbol": symbol,
            **terms,
            "submitted_at": (now or datetime.now(UTC)).isoformat(),
            "source": "slack",
            "slack_view_id": view.get("id"),
        },
    }
    try:
        return msgspec.convert(raw, SubmitTrade, strict=False)
    except msgspec.ValidationError as exc:
        return {_block_of(str(exc)): _plain(str(exc))}


def _size_error(text: str | None) -> str:
    if text is not None and text.startswith("$"):
        return f"Enter a dollar amount greater than 0 with {AMOUNT_BOUNDS}, e.g. $500."
    value = decimal_or_none(text)
    if value is None or value <= 0:
        return "Enter a number of shares greater than 0, e.g. 100 (or a dollar amount, e.g. $500)."
    return f"Enter a number of shares with {AMOUNT_BOUNDS}."


def _block_of(message: str) -> str:
    """Which block a wire-type refusal belongs under (`… - at $.trade.symbol` → symbol)."""
    where = message.rpartition(" - at ")[2].strip("`")
    field = where.removeprefix("$.trade").lstrip(".")
    if field in ("notional", "quantity"):
        return QUANTITY
    if field in ("trail_price", "trail_percent"):
        return TRAIL
    return field if field in BLOCKS else SYMBOL


def _plain(message: str) -> str:
    text = message.rpartition(" - at ")[0] or message
    if "regex" in text:
        return "Use a ticker of 1-5 capital letters, e.g. AAPL or BRK.B."
    return text


# The form's parts, for the modify modal (workers/slack/modify_form.py).
select_input, text_input, view_values = _select, _text, _values

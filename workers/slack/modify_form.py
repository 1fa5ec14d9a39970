"""The modify modal (`/trade modify TRADE_ID`, a working order's Modify button): the order's quantity, its
prices and time in force, prefilled with what rests at Alpaca; submitted, it becomes a ModifyOrder whose
replacement is a trade of its own (its id minted when the modal opened, so a double submit is one modify).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from messages.events import ModifyOrder
from messages.records import TradeRecord
from messages.types import AMOUNT_BOUNDS, NEEDS_LIMIT_PRICE, NEEDS_STOP_PRICE, amount_problem
from workers.slack.blocks import MODIFY_ACTION
from workers.slack.forms import (
    LIMIT_PRICE,
    QUANTITY,
    STOP_PRICE,
    TIME_IN_FORCE,
    TIMES_IN_FORCE,
    select_input,
    text_input,
    view_values,
)

__all__ = ["MODIFY_ACTION", "MODIFY_CALLBACK_ID", "modified_view", "modify_modal", "read_modify"]

MODIFY_CALLBACK_ID = "modify_modal"


def modify_modal(record: TradeRecord, replacement_id: uuid.UUID) -> dict[str, Any]:
    """The modal for one working order, prefilled with its terms."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*{record.trade_type.upper()} {record.symbol}* "
                f"{record.order_type.replace('_', ' ')} · `{record.trade_id}`\n"
                "Alpaca replaces the order with these terms; what already filled stays.",
            },
        },
        text_input(QUANTITY, "Quantity still to fill (whole shares)", _text(_remaining(record))),
    ]
    if record.order_type in NEEDS_LIMIT_PRICE:
        blocks.append(text_input(LIMIT_PRICE, "Limit price", _text(record.price)))
    if record.order_type in NEEDS_STOP_PRICE:
        blocks.append(text_input(STOP_PRICE, "Stop price", _text(record.stop_price)))
    blocks.append(select_input(TIME_IN_FORCE, "Time in force", TIMES_IN_FORCE, record.time_in_force))
    return {
        "type": "modal",
        "callback_id": MODIFY_CALLBACK_ID,
        "private_metadata": json.dumps(
            {"trade_id": str(record.trade_id), "replacement_id": str(replacement_id)}
        ),
        "title": {"type": "plain_text", "text": "Modify order"},
        "submit": {"type": "plain_text", "text": "Modify"},
        "close": {"type": "plain_text", "text": "Keep it"},
        "blocks": blocks,
    }


def modified_view(command: ModifyOrder) -> dict[str, Any]:
    """What the modal shows once the modify is sent (the outcome follows as messages)."""
    new = command.replacement
    terms = f"{new.quantity} shares" + "".join(
        f", {name} {price}" for name, price in (("limit", new.limit_price), ("stop", new.stop_price)) if price
    )
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Modify sent"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"Asked Alpaca to replace the order with {terms}, {new.time_in_force}. You will "
                    f"get a message when it rests (new trade `{new.trade_id}`), or why it could not.",
                },
            }
        ],
    }


def read_modify(
    view: dict[str, Any], record: TradeRecord, *, user_id: str, now: datetime | None = None
) -> ModifyOrder | dict[str, str]:
    """The submitted modal as a ModifyOrder of `record`'s trade, or an `errors` map keyed by block id."""
    values = view_values(view)
    metadata = json.loads(view.get("private_metadata") or "{}")
    errors: dict[str, str] = {}
    quantity = _decimal(values.get(QUANTITY))
    if quantity is None or quantity <= 0 or quantity != quantity.to_integral_value():
        errors[QUANTITY] = "Enter a whole number of shares greater than 0 (Alpaca replaces whole shares)."
    elif amount_problem(quantity) is not None:
        errors[QUANTITY] = f"Enter a number of shares with {AMOUNT_BOUNDS}."
    prices: dict[str, Decimal | None] = {LIMIT_PRICE: None, STOP_PRICE: None}
    for block_id, needs in ((LIMIT_PRICE, NEEDS_LIMIT_PRICE), (STOP_PRICE, NEEDS_STOP_PRICE)):
        if record.order_type not in needs:
            continue
        price = _decimal(values.get(block_id))
        name = block_id.replace("_", " ")
        if price is None or price <= 0 or amount_problem(price) is not None:
            errors[block_id] = f"Enter a {name} greater than 0 with {AMOUNT_BOUNDS}, e.g. 410.50."
        prices[block_id] = price
    if errors:
        return errors
    trade = record.request()
    replacement = msgspec.structs.replace(
        trade,
        trade_id=uuid.UUID(metadata["replacement_id"]),
        quantity=quantity,
        limit_price=prices[LIMIT_PRICE],
        stop_price=prices[STOP_PRICE],
        time_in_force=values.get(TIME_IN_FORCE) or trade.time_in_force,
        submitted_at=now or datetime.now(UTC),
        source="slack_modify",
        slack_view_id=None,
    )
    return ModifyOrder(
        trade=trade, replacement=replacement, requested_by=user_id, requested_at=replacement.submitted_at
    )


def _remaining(record: TradeRecord) -> Decimal:
    """What the order has left to fill: the replacement's quantity unless the trader changes it."""
    if record.quantity is None:
        raise ValueError("a dollar-amount order has no share quantity to modify")
    return record.quantity - sum((fill.quantity for fill in record.fills), Decimal(0))


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal(text) if text else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")

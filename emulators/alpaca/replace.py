"""`PATCH /v2/orders/{order_id}`, Alpaca's replace order: the patch's fields read into a new order's ticket.

What Alpaca documents ("Replace Order by ID"): each parameter (`qty`, `time_in_force`, `limit_price`,
`stop_price`, `trail`, `client_order_id`) overrides the existing order's, the rest stays; the answer is the
new order, whose `replaces` names the old one, and the old one ends `replaced` (its `replaced_by` names the
new one; `trade_updates` sends `replaced`). An order cannot be replaced while `accepted`, `pending_new`,
`pending_cancel` or `pending_replace` (the 422 is "unable to replace order, order isn't sent to exchange
yet", as alpaca-trade-api-python#306 shows it); only whole-share quantities may be patched, and notional
orders not at all. A success does not promise the old order was replaced: if it fills before the new one
reaches the venue, the new one is rejected (both events on the stream). While both exist, buying power
holds the larger of the two. A patch that changes nothing is 403 `{"code":40310000,"message":"order
parameters are not changed"}` (alpaca-trade-api-js#123). Messages marked "(emulator wording)" are ours.

The emulator's own choices: a replacement's quantity, when the patch sets none, is what the old order had
left to fill; a closed order's refusal is the one its cancel would get ('order is already in "filled"
state').
"""

from __future__ import annotations

from typing import Any

from emulators.alpaca import errors
from emulators.alpaca.formats import decimal_text, to_decimal
from emulators.alpaca.orders import Order
from emulators.alpaca.validation import OrderTicket, read_ticket

REPLACEABLE = frozenset({"new", "partially_filled"})
PATCH_FIELDS = ("qty", "time_in_force", "limit_price", "stop_price", "trail", "client_order_id")


def replacement_ticket(old: Order, patch: Any) -> OrderTicket:
    """The new order's ticket: `old`'s fields under `patch`'s; Alpaca's refusal when it may not be."""
    if not isinstance(patch, dict):
        raise errors.invalid_parameter("request body format is invalid")  # (emulator wording)
    if old.status not in REPLACEABLE:
        if old.is_open:
            raise errors.unprocessable("unable to replace order, order isn't sent to exchange yet")
        raise errors.not_cancelable(old.status)
    if patch.get("trail") is not None:
        raise errors.unprocessable("trailing_stop orders are not supported by the emulator")
    if old.notional is not None:
        raise errors.unprocessable("notional orders cannot be replaced")  # (emulator wording)
    qty = patch.get("qty")
    whole = to_decimal(qty) if qty not in (None, "") else None
    if whole is not None and whole != whole.to_integral_value():
        raise errors.invalid_parameter("qty must be a whole number of shares")  # (emulator wording)
    remaining = old.remaining_qty()
    ticket = read_ticket(
        {
            "symbol": old.symbol,
            "side": old.side,
            "type": old.type,
            "time_in_force": patch.get("time_in_force") or old.time_in_force,
            "qty": qty if qty not in (None, "") else decimal_text(remaining) if remaining else None,
            "limit_price": _price(patch, "limit_price", old),
            "stop_price": _price(patch, "stop_price", old),
            "extended_hours": old.extended_hours,
            "client_order_id": patch.get("client_order_id"),
        }
    )
    unchanged = (ticket.qty, ticket.time_in_force, ticket.limit_price, ticket.stop_price) == (
        remaining,
        old.time_in_force,
        old.limit_price,
        old.stop_price,
    )
    if unchanged and not patch.get("client_order_id"):
        raise errors.coded(403, 40310000, "order parameters are not changed")
    return ticket


def _price(patch: dict[str, Any], name: str, old: Order) -> Any:
    value = patch.get(name)
    if value not in (None, ""):
        return value
    kept = getattr(old, name)
    return None if kept is None else decimal_text(kept)

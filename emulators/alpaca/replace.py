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

A trailing stop's patch may set `trail`: the new value of its `trail_price` or `trail_percent`, whichever
it has ("you cannot change the price trailing to the percent trailing or vice versa"); its high-water mark
starts again from the market. A leg of a bracket or oco may be replaced (its limit_price or stop_price)
even while `held`, and its replacement takes its place in the group (legs.adopt); an oto may not be.

The emulator's own choices: a replacement's quantity, when the patch sets none, is what the old order had
left to fill; a closed order's refusal is the one its cancel would get ('order is already in "filled"
state'); a leg's replacement is not checked against the account again (it exits the group's position).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from emulators.alpaca import errors
from emulators.alpaca.formats import decimal_text, to_decimal
from emulators.alpaca.orders import HELD, Order
from emulators.alpaca.validation import OrderTicket, read_ticket

REPLACEABLE = frozenset({"new", "partially_filled"})
PATCH_FIELDS = ("qty", "time_in_force", "limit_price", "stop_price", "trail", "client_order_id")


def replacement_ticket(old: Order, patch: Any) -> OrderTicket:
    """The new order's ticket: `old`'s fields under `patch`'s; Alpaca's refusal when it may not be."""
    if not isinstance(patch, dict):
        raise errors.invalid_parameter("request body format is invalid")  # (emulator wording)
    held_leg = old.status == HELD and old.parent is not None
    if old.status not in REPLACEABLE and not held_leg:
        if old.is_open:
            raise errors.unprocessable("unable to replace order, order isn't sent to exchange yet")
        raise errors.not_cancelable(old.status)
    trail = _trail(patch, old)
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
            **trail,
        }
    )
    unchanged = (ticket.qty, ticket.time_in_force, ticket.limit_price, ticket.stop_price) == (
        remaining,
        old.time_in_force,
        old.limit_price,
        None if old.type == "trailing_stop" else old.stop_price,
    ) and (ticket.trail_price, ticket.trail_percent) == (old.trail_price, old.trail_percent)
    if unchanged and not patch.get("client_order_id"):
        raise errors.coded(403, 40310000, "order parameters are not changed")
    return ticket


def _trail(patch: dict[str, Any], old: Order) -> dict[str, Any]:
    """The trailing stop's trail fields under the patch's `trail`."""
    trail = patch.get("trail")
    if old.type != "trailing_stop":
        if trail not in (None, ""):
            raise errors.invalid_parameter("trail is only for trailing_stop orders")  # (emulator wording)
        return {}
    fields = {"trail_price": old.trail_price, "trail_percent": old.trail_percent}
    kept = "trail_price" if old.trail_price is not None else "trail_percent"
    if trail not in (None, ""):
        fields[kept] = trail
    return {k: decimal_text(v) if isinstance(v, Decimal) else v for k, v in fields.items() if v is not None}


def _price(patch: dict[str, Any], name: str, old: Order) -> Any:
    if old.type == "trailing_stop" and name == "stop_price" and patch.get(name) in (None, ""):
        return None  # derived from the trail, not the order's own
    value = patch.get(name)
    if value not in (None, ""):
        return value
    kept = getattr(old, name)
    return None if kept is None else decimal_text(kept)

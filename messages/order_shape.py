"""Which fields an order of each kind takes, as Alpaca's order rules say: one set of rules for the wire, the
modal, the slash command and the CLI, each problem named by the field it belongs to."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from messages.types import (
    ADVANCED_TIMES_IN_FORCE,
    ENTRY_ORDER_TYPES,
    EXTENDED_HOURS_ORDER_TYPES,
    EXTENDED_HOURS_TIMES_IN_FORCE,
    MAX_TRAIL_PERCENT,
    NEEDS_LIMIT_PRICE,
    NEEDS_STOP_PRICE,
    NOTIONAL_ORDER_TYPES,
    TRAILING_TIMES_IN_FORCE,
)

TYPE_NAMES = {
    "market": "market",
    "limit": "limit",
    "stop": "stop",
    "stop_limit": "stop limit",
    "trailing_stop": "trailing stop",
}


class OrderShape(msgspec.Struct, frozen=True, kw_only=True):
    """The fields that decide what kind of order a trade is (amounts already parsed)."""

    order_type: str = "market"
    side: str = "buy"
    time_in_force: str = "day"
    quantity: Decimal | None = None
    notional: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None
    extended_hours: bool = False
    order_class: str = "simple"
    take_profit_price: Decimal | None = None
    stop_loss_price: Decimal | None = None
    stop_loss_limit_price: Decimal | None = None


def shape_problems(shape: OrderShape) -> dict[str, str]:
    """Every field the order kind does not allow or still needs, with what to change; empty when sound."""
    name = TYPE_NAMES.get(shape.order_type, shape.order_type)
    problems: dict[str, str] = {}
    if (shape.quantity is None) == (shape.notional is None):
        problems["quantity"] = "Give either a number of shares or a dollar amount, not both"
    if shape.notional is not None:
        if shape.order_type not in NOTIONAL_ORDER_TYPES:
            problems["notional"] = f"A dollar amount needs a market order, not a {name} order"
        elif shape.time_in_force != "day":
            problems["time_in_force"] = "A dollar amount order is a day order: choose time in force day"
    for price_field, needs in (("limit_price", NEEDS_LIMIT_PRICE), ("stop_price", NEEDS_STOP_PRICE)):
        price = getattr(shape, price_field)
        label = price_field.replace("_", " ")
        if shape.order_type in needs and price is None:
            problems[price_field] = f"A {name} order needs a {label}"
        elif shape.order_type not in needs and price is not None:
            problems[price_field] = f"A {name} order takes no {label}: clear it"
    problems.update(_trail_problems(shape, name))
    if shape.extended_hours:
        if shape.order_type not in EXTENDED_HOURS_ORDER_TYPES:
            problems["extended_hours"] = (
                f"Extended hours take limit orders only, not a {name} order: choose limit, or turn extended "
                "hours off"
            )
        elif shape.time_in_force not in EXTENDED_HOURS_TIMES_IN_FORCE:
            problems["time_in_force"] = "Alpaca takes extended-hours orders as day orders only: choose day"
    for field, problem in class_problems(shape).items():
        problems.setdefault(field, problem)
    return problems


def _trail_problems(shape: OrderShape, name: str) -> dict[str, str]:
    trails = [t for t in (shape.trail_price, shape.trail_percent) if t is not None]
    if shape.order_type != "trailing_stop":
        return {"trail": f"A {name} order takes no trail: clear it"} if trails else {}
    if len(trails) != 1:
        return {"trail": "A trailing stop trails by a price ($) or a percent (%): give exactly one"}
    if shape.trail_percent is not None and shape.trail_percent >= MAX_TRAIL_PERCENT:
        return {"trail": "A trail percent must be below 100"}
    if shape.time_in_force not in TRAILING_TIMES_IN_FORCE:
        return {"time_in_force": "A trailing stop is day or gtc"}
    return {}


def class_problems(shape: OrderShape) -> dict[str, str]:
    """A bracket's, an OCO's or an OTO's own rules (Alpaca's "Bracket Orders", "OCO", "OTO")."""
    exits = {"take_profit": shape.take_profit_price, "stop_loss": shape.stop_loss_price}
    given = {leg for leg, price in exits.items() if price is not None}
    if shape.stop_loss_limit_price is not None and shape.stop_loss_price is None:
        return {"stop_loss": "A stop-loss limit needs a stop-loss stop price"}
    if shape.order_class == "simple":
        return {
            leg: f"A take-profit or stop-loss makes an order a bracket, OTO or OCO: {_CHOOSE}"
            for leg in given
        }
    name = shape.order_class.upper() if shape.order_class != "bracket" else "bracket"
    problems: dict[str, str] = {}
    if shape.order_class == "oco":
        if shape.order_type != "limit":
            problems["order_type"] = "An OCO is a limit order (its limit is the take-profit)"
        if "take_profit" in given:
            problems["take_profit"] = "An OCO's take-profit is its limit price: leave this empty"
        if "stop_loss" not in given:
            problems["stop_loss"] = "An OCO needs a stop-loss stop price"
    else:
        if shape.order_type not in ENTRY_ORDER_TYPES:
            problems["order_type"] = f"A {name} order's entry is a market or limit order"
        if shape.order_class == "bracket":
            problems.update(
                {leg: f"A bracket needs a {leg.replace('_', '-')} price" for leg in exits if leg not in given}
            )
        elif len(given) != 1:
            problems["take_profit"] = "An OTO has one exit: a take-profit or a stop-loss, not both or none"
    if shape.time_in_force not in ADVANCED_TIMES_IN_FORCE:
        problems.setdefault("time_in_force", f"A {name} order is day or gtc")
    if shape.notional is not None or (
        shape.quantity is not None and shape.quantity != shape.quantity.to_integral()
    ):
        problems.setdefault("quantity", f"A {name} order is for whole shares")
    if shape.extended_hours:
        problems.setdefault("extended_hours", f"A {name} order cannot trade in extended hours")
    for leg, problem in _wrong_side_of_limit(shape).items():
        problems.setdefault(leg, problem)
    return problems


def _wrong_side_of_limit(shape: OrderShape) -> dict[str, str]:
    """Exits priced on the wrong side of the order's own limit (a limit entry's, an OCO's take-profit): the
    take-profit must lie beyond it, the stop-loss short of it. A market entry's price is validation's to
    judge, against the market."""
    limit = shape.limit_price
    if limit is None or shape.order_type != "limit" or shape.order_class == "simple":
        return {}
    take_profit = None if shape.order_class == "oco" else shape.take_profit_price  # an OCO's is the limit
    return {
        leg: f"The {leg.replace('_', '-')} must be {'above' if above else 'below'} the limit price ${limit}"
        for leg, _, above in misplaced_exits(shape, take_profit, limit)
    }


def misplaced_exits(
    shape: OrderShape, take_profit: Decimal | None, base: Decimal
) -> list[tuple[str, Decimal, bool]]:
    """(leg, price, whether it must be above) of each exit on the wrong side of `base`: for the side the
    exits trade (an OCO's own; a bracket's or OTO's, the entry's opposite), the take-profit beyond it and
    the stop-loss short of it, as Alpaca requires them."""
    exit_side = shape.side if shape.order_class == "oco" else ("sell" if shape.side == "buy" else "buy")
    above = exit_side == "sell"  # a long's exits: the take-profit sells higher, the stop-loss lower
    wrong = []
    for leg, price, wants_above in (
        ("take_profit", take_profit, above),
        ("stop_loss", shape.stop_loss_price, not above),
    ):
        if price is not None and not (price > base if wants_above else price < base):
            wrong.append((leg, price, wants_above))
    return wrong


_CHOOSE = "choose bracket (both exits) or OTO (one) as the order class, or clear it"
